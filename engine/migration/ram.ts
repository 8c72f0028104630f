/**
 * The "ram" section (QEMU's migration/ram.c, precopy without compression): guest RAM as pages.
 *
 * Layout, all big-endian u64 headers of (page offset | flags):
 *   START: (total bytes | MEM_SIZE), then per block: u8 id length, id, u64 used length; then EOS.
 *   PART:  pages: header (| CONTINUE when the block is the previous page's), the block id unless
 *          CONTINUE, then either ZERO + one fill byte (an all-zero page) or PAGE + 4096 bytes; EOS.
 *   END:   the pages dirtied since (none: we save a stopped VM), EOS.
 * Blocks are listed largest first, as QEMU keeps ram_list (equal sizes in registration order).
 *
 * Which RAM migrates: blocks registered with vmstateRegisterRam (QEMU's vmstate_register_ram, done by
 * memory_region_init_ram/rom for the board's RAM, ROMs and flash). Its id is the region name, prefixed
 * with the owner's qdev path when it has one.
 *
 * Loading writes pages in place; the first write into a block copies the block so a refused stream
 * can be rolled back. Afterwards every page with decoded instructions cached is invalidated.
 */
import { TARGET_PAGE_BITS, TARGET_PAGE_SIZE, type RamBlock } from '../system/physmem.js';
import type { DeviceState } from '../hw/core/qdev-core.js';
import { QemuFileReader, QemuFileWriter } from './qemu-file.js';
import { EINVAL, MigrationError } from './migration-error.js';
import { qdevGetDevPath, registerSavevmLive, type LoadSession, type SaveStateEntry } from './register.js';
import type { MemoryRegion } from '../system/memory.js';
import { DEVICE, type DeviceState as Dev } from '../hw/core/qdev-core.js';
import { objectDynamicCast, type QomObject } from '../qom/object.js';
import { getSystemMemory } from '../hw/riscv/machine-memory.js';

export const RAM_SAVE_FLAG_FULL = 0x01;
export const RAM_SAVE_FLAG_ZERO = 0x02;
export const RAM_SAVE_FLAG_MEM_SIZE = 0x04;
export const RAM_SAVE_FLAG_PAGE = 0x08;
export const RAM_SAVE_FLAG_EOS = 0x10;
export const RAM_SAVE_FLAG_CONTINUE = 0x20;
export const RAM_SAVE_FLAG_XBZRLE = 0x40;
export const RAM_SAVE_FLAG_COMPRESS_PAGE = 0x100;

const PAGE_MASK = TARGET_PAGE_SIZE - 1;
const U32 = 4294967296;

interface MigratableRam {
  idstr: string;
  block: RamBlock;
  /** Bytes that migrate (QEMU's used_length). */
  size: number;
  seq: number;
}

const blocks: MigratableRam[] = [];
let seq = 0;

/** Stats of the last save/load (query-migrate's "ram" member). */
export interface RamStats {
  transferred: number;
  total: number;
  duplicate: number;
  normal: number;
  normalBytes: number;
}

export const ramStats: RamStats = { transferred: 0, total: 0, duplicate: 0, normal: 0, normalBytes: 0 };

/**
 * vmstate_register_ram(): `block` migrates, named by `name` (default: the block's name) with the
 * owner's qdev path in front when it has one. Returns the id string used in the stream.
 */
export function vmstateRegisterRam(
  block: RamBlock,
  owner: DeviceState | null = null,
  name = block.name,
): string {
  const path = owner ? qdevGetDevPath(owner) : null;
  const idstr = path ? `${path}/${name}` : name;
  if (blocks.some((b) => b.idstr === idstr && b.block !== block)) {
    throw new Error(`RAMBlock "${idstr}" already registered`);
  }
  if (!blocks.some((b) => b.block === block)) blocks.push({ idstr, block, size: block.size, seq: seq++ });
  return idstr;
}

/** vmstate_unregister_ram(). */
export function vmstateUnregisterRam(block: RamBlock): void {
  const i = blocks.findIndex((b) => b.block === block);
  if (i >= 0) blocks.splice(i, 1);
}

/**
 * Where RAM regions are found without explicit registration: QEMU registers every RAM/ROM region
 * created with memory_region_init_ram/rom; our MemoryRegion.ram/rom do not know about migration, so
 * we take every RAM-backed region mapped in the system memory tree (following aliases).
 */
let systemMemoryRoot: () => MemoryRegion | null = () => getSystemMemory();

export function setSystemMemoryRoot(fn: () => MemoryRegion | null): void {
  systemMemoryRoot = fn;
}

function discoverRam(): MigratableRam[] {
  const root = systemMemoryRoot();
  if (!root) return [];
  const found: MigratableRam[] = [];
  const seen = new Set<MemoryRegion>();
  const walk = (mr: MemoryRegion): void => {
    if (seen.has(mr)) return;
    seen.add(mr);
    if (mr.alias) walk(mr.alias);
    const blk = mr.ramBlock;
    if (blk && !mr.alias && !blocks.some((b) => b.block === blk) && !found.some((b) => b.block === blk)) {
      const owner = mr.owner as QomObject | null;
      const dev = owner && objectDynamicCast(owner, 'device') ? (DEVICE(owner) as Dev) : null;
      const path = dev ? qdevGetDevPath(dev) : null;
      found.push({
        idstr: path ? `${path}/${mr.name}` : mr.name,
        block: blk,
        size: blk.size,
        seq: 1e9 + found.length,
      });
    }
    for (const sub of mr.subregions) walk(sub);
  };
  walk(root);
  return found;
}

/** Migratable blocks, largest first (QEMU's RAMBLOCK_FOREACH_MIGRATABLE order). */
export function migratableRam(): MigratableRam[] {
  return [...blocks, ...discoverRam()].sort((a, b) => b.size - a.size || a.seq - b.seq);
}

export function ramBytesTotal(): number {
  return migratableRam().reduce((n, b) => n + b.size, 0);
}

export function ramRegistryReset(): void {
  blocks.length = 0;
}

function isZeroPage(i32: Int32Array, first: number): boolean {
  const end = first + (TARGET_PAGE_SIZE >> 2);
  for (let i = first; i < end; i++) if (i32[i] !== 0) return false;
  return true;
}

function putHeader(f: QemuFileWriter, offset: number, flags: number): void {
  f.u32(Math.floor(offset / U32));
  f.u32(((offset >>> 0) | flags) >>> 0);
}

function saveSetup(f: QemuFileWriter): void {
  ramStats.transferred = 0;
  ramStats.duplicate = ramStats.normal = ramStats.normalBytes = 0;
  ramStats.total = ramBytesTotal();
  const start = f.length;
  f.u64(ramStats.total + RAM_SAVE_FLAG_MEM_SIZE);
  for (const b of migratableRam()) {
    f.str8(b.idstr);
    f.u64(b.size);
  }
  f.u64(RAM_SAVE_FLAG_EOS);
  ramStats.transferred += f.length - start;
}

/** Every page, in one pass (the VM is stopped while we save, so nothing is dirtied meanwhile). */
function saveIterate(f: QemuFileWriter): boolean {
  const list = migratableRam();
  if (list.every((b) => b.size === 0)) return false;
  const start = f.length;
  let last: RamBlock | null = null;
  for (const b of list) {
    const { block } = b;
    const u8 = block.u8;
    const i32 = block.i32;
    for (let off = 0; off < b.size; off += TARGET_PAGE_SIZE) {
      const len = Math.min(TARGET_PAGE_SIZE, b.size - off);
      const zero =
        len === TARGET_PAGE_SIZE
          ? isZeroPage(i32, off >> 2)
          : u8.subarray(off, off + len).every((x) => x === 0);
      const cont = last === block ? RAM_SAVE_FLAG_CONTINUE : 0;
      putHeader(f, off, (zero ? RAM_SAVE_FLAG_ZERO : RAM_SAVE_FLAG_PAGE) | cont);
      if (!cont) f.str8(b.idstr);
      last = block;
      if (zero) {
        f.u8(0);
        ramStats.duplicate++;
      } else {
        const page = new Uint8Array(TARGET_PAGE_SIZE);
        page.set(u8.subarray(off, off + len));
        f.bytes(page);
        ramStats.normal++;
        ramStats.normalBytes += TARGET_PAGE_SIZE;
      }
    }
  }
  f.u64(RAM_SAVE_FLAG_EOS);
  ramStats.transferred += f.length - start;
  return true;
}

function saveComplete(f: QemuFileWriter): void {
  f.u64(RAM_SAVE_FLAG_EOS);
  ramStats.transferred += 8;
}

function fmtHex(n: number): string {
  return n.toString(16);
}

/** Per-load state: the block of the previous page (for CONTINUE) and blocks already backed up. */
interface RamLoadState {
  last: MigratableRam | null;
  backedUp: Set<RamBlock>;
}

const loadStates = new WeakMap<LoadSession, RamLoadState>();

function stateFor(session: LoadSession): RamLoadState {
  let s = loadStates.get(session);
  if (!s) loadStates.set(session, (s = { last: null, backedUp: new Set() }));
  return s;
}

function backup(session: LoadSession, st: RamLoadState, block: RamBlock): void {
  if (st.backedUp.has(block)) return;
  st.backedUp.add(block);
  const copy = block.u8.slice();
  session.onRollback(() => block.u8.set(copy));
}

function blockFromStream(
  f: QemuFileReader,
  flags: number,
  st: RamLoadState,
  blocks: MigratableRam[],
): MigratableRam | null {
  if (flags & RAM_SAVE_FLAG_CONTINUE) {
    if (!st.last) throw new MigrationError(EINVAL, 'Ack, bad migration stream!');
    return st.last;
  }
  const id = f.str8();
  const b = blocks.find((x) => x.idstr === id) ?? null;
  if (!b) throw new MigrationError(EINVAL, `Can't find block ${id}`).report(`Illegal RAM offset 0`);
  st.last = b;
  return b;
}

function load(f: QemuFileReader, _versionId: number, session: LoadSession): void {
  const st = stateFor(session);
  const blocks = migratableRam();
  for (;;) {
    const hdr = f.u64n();
    const lo = typeof hdr === 'bigint' ? Number(hdr & 0xffffffffn) : hdr % U32;
    const flags = lo & PAGE_MASK;
    const addr = typeof hdr === 'bigint' ? Number(hdr - BigInt(flags)) : hdr - flags;
    switch (flags & ~RAM_SAVE_FLAG_CONTINUE) {
      case RAM_SAVE_FLAG_MEM_SIZE: {
        let total = addr;
        while (total > 0) {
          const id = f.str8();
          const length = Number(f.u64());
          const b = blocks.find((x) => x.idstr === id);
          if (!b) throw new MigrationError(EINVAL, `Unknown ramblock "${id}", cannot accept migration`);
          if (length !== b.size) {
            throw new MigrationError(
              EINVAL,
              `Size mismatch: ${id}: 0x${fmtHex(length)} != 0x${fmtHex(b.size)}: Invalid argument`,
            );
          }
          total -= length;
        }
        break;
      }
      case RAM_SAVE_FLAG_ZERO:
      case RAM_SAVE_FLAG_PAGE: {
        const b = blockFromStream(f, flags, st, blocks);
        if (!b || addr + TARGET_PAGE_SIZE > Math.ceil(b.size / TARGET_PAGE_SIZE) * TARGET_PAGE_SIZE) {
          throw new MigrationError(EINVAL, `Illegal RAM offset ${fmtHex(addr)}`);
        }
        const len = Math.min(TARGET_PAGE_SIZE, b.size - addr);
        const u8 = b.block.u8;
        if (flags & RAM_SAVE_FLAG_ZERO) {
          const ch = f.u8();
          const i32 = b.block.i32;
          // Nothing to write (or back up) when the page already holds the fill byte.
          if (ch === 0 && len === TARGET_PAGE_SIZE && isZeroPage(i32, addr >> 2)) break;
          backup(session, st, b.block);
          u8.fill(ch, addr, addr + len);
        } else {
          const data = f.bytes(TARGET_PAGE_SIZE);
          backup(session, st, b.block);
          u8.set(data.subarray(0, len), addr);
        }
        break;
      }
      case RAM_SAVE_FLAG_EOS:
        return;
      default:
        throw new MigrationError(EINVAL, `Unknown combination of migration flags: 0x${fmtHex(flags)}`);
    }
  }
}

/** Decoded instructions of every page that may have changed are dropped (QEMU: tb_flush). */
function invalidateCode(): void {
  for (const b of migratableRam()) {
    const blk = b.block;
    if (!blk.onCodeWrite) continue;
    const pages = blk.codePages;
    for (let p = 0; p < pages.length; p++) if (pages[p]) blk.onCodeWrite(p);
  }
}

let entry: SaveStateEntry | null = null;

/** ram_mig_init(): register the "ram" section (version 4, as QEMU). */
export function ramMigInit(): SaveStateEntry {
  entry = registerSavevmLive('ram', 0, 4, {
    saveSetup,
    saveIterate,
    saveComplete,
    load,
    loadDone: () => invalidateCode(),
  });
  return entry;
}

export { TARGET_PAGE_BITS };
