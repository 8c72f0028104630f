/**
 * Guest image loading and the ROM list (QEMU's hw/core/loader.c).
 *
 * Boards do not write firmware, kernels or device trees into guest memory directly: they register
 * "roms" (blobs with a fixed guest address), and every machine reset copies all roms into place
 * (rom_reset). So a system_reset restarts from pristine images, and `info roms` lists what was
 * loaded where. ELF files become one rom per PT_LOAD segment (zero-filled up to p_memsz).
 */
import { readFileSync, statSync } from 'node:fs';
import { errorSetg } from '../../qapi/error.js';
import type { AddressSpace } from '../../system/memory.js';

export interface Rom {
  name: string;
  addr: number;
  /** Bytes from the file/blob. */
  data: Uint8Array;
  /** Size in guest memory (>= data.length; the rest is zero-filled). */
  romSize: number;
  as: AddressSpace;
}

const roms: Rom[] = [];

/** rom_insert(): the list stays sorted by address (that is the order `info roms` shows). */
function romInsert(rom: Rom): void {
  const i = roms.findIndex((r) => r.as === rom.as && rom.addr < r.addr);
  if (i < 0) roms.push(rom);
  else roms.splice(i, 0, rom);
}

/** rom_add_blob_fixed_as(): a blob at a fixed address. */
export function romAddBlobFixed(
  name: string,
  data: Uint8Array,
  addr: number,
  as: AddressSpace,
  romSize = data.length,
): Rom {
  const rom: Rom = { name, addr, data, romSize: Math.max(romSize, data.length), as };
  romInsert(rom);
  return rom;
}

export function romList(): readonly Rom[] {
  return roms;
}

/** Forget every rom (machine teardown, tests). */
export function romsClear(): void {
  roms.length = 0;
}

/** rom_check_and_register_reset(): refuse overlapping roms, QEMU's wording. */
export function romCheckOverlap(): void {
  let prev: Rom | null = null;
  for (const r of roms) {
    if (prev && prev.as === r.as && prev.addr + prev.romSize > r.addr) {
      throw errorSetg(
        `rom: requested regions overlap (rom ${r.name}. free=0x${(prev.addr + prev.romSize).toString(16).padStart(16, '0')}, addr=0x${r.addr.toString(16).padStart(16, '0')})`,
      );
    }
    prev = r;
  }
}

/**
 * address_space_write_rom(): bytes land in RAM and ROM (read-only regions included); parts of the
 * range covered by MMIO (e.g. HTIF overlaying an ELF's .tohost) or by nothing are skipped.
 */
function writeRom(as: AddressSpace, addr: number, data: Uint8Array): void {
  for (let i = 0; i < data.length;) {
    const fr = as.lookup(addr + i);
    if (fr === null) {
      i++;
      continue;
    }
    const n = Math.min(data.length - i, fr.end - (addr + i));
    const blk = fr.mr.ramBlock;
    if (blk !== null) blk.write(addr + i - fr.start + fr.offset, data.subarray(i, i + n));
    i += n;
  }
}

/** rom_reset(): copy every rom into guest memory (RAM and ROM alike), zero-filling up to its size. */
export function romReset(): void {
  for (const r of roms) {
    writeRom(r.as, r.addr, r.data);
    if (r.romSize > r.data.length)
      writeRom(r.as, r.addr + r.data.length, new Uint8Array(r.romSize - r.data.length));
  }
}

/** `info roms`. */
export function formatInfoRoms(): string {
  return roms
    .map((r) => {
      const fr = r.as.lookup(r.addr);
      const mem = fr && fr.mr.readonly ? 'rom' : 'ram';
      return `addr=${r.addr.toString(16).padStart(16, '0')} size=0x${r.romSize.toString(16).padStart(6, '0')} mem=${mem} name="${r.name}"\n`;
    })
    .join('');
}

/** get_image_size(): -1 when the file cannot be read. */
export function getImageSize(filename: string): number {
  try {
    return statSync(filename).size;
  } catch {
    return -1;
  }
}

/** load_image_targphys_as(): a raw file at `addr`; -1 if unreadable or bigger than maxSize. */
export function loadImageTargphys(filename: string, addr: number, maxSize: number, as: AddressSpace): number {
  const size = getImageSize(filename);
  if (size < 0 || size > maxSize) return -1;
  let data: Uint8Array;
  try {
    data = readFileSync(filename);
  } catch {
    return -1;
  }
  if (data.length > 0) romAddBlobFixed(filename, data, addr, as);
  return data.length;
}

// --- ELF --------------------------------------------------------------------------------------

export const EM_RISCV = 243;

export interface ElfSegment {
  paddr: number;
  data: Uint8Array;
  memsz: number;
}

export interface ElfFile {
  is64: boolean;
  machine: number;
  entry: number;
  segments: ElfSegment[];
  symbols: Map<string, number>;
}

/** Parse an ELF executable's program headers and symbol table; null if it is not ELF at all. */
export function parseElf(buf: Uint8Array): ElfFile | null {
  if (buf.length < 52 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46)
    return null;
  const is64 = buf[4] === 2;
  if (buf[5] !== 1) throw errorSetg('big-endian ELF files are not supported');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const word = (o: number) => (is64 ? Number(dv.getBigUint64(o, true)) : dv.getUint32(o, true));
  const machine = dv.getUint16(18, true);
  const entry = word(24);
  const phoff = word(is64 ? 32 : 28);
  const shoff = word(is64 ? 40 : 32);
  const phentsize = dv.getUint16(is64 ? 54 : 42, true);
  const phnum = dv.getUint16(is64 ? 56 : 44, true);
  const shentsize = dv.getUint16(is64 ? 58 : 46, true);
  const shnum = dv.getUint16(is64 ? 60 : 48, true);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== 1) continue; // PT_LOAD
    const off = is64 ? word(p + 8) : dv.getUint32(p + 4, true);
    const paddr = is64 ? word(p + 24) : dv.getUint32(p + 12, true);
    const filesz = is64 ? word(p + 32) : dv.getUint32(p + 16, true);
    const memsz = is64 ? word(p + 40) : dv.getUint32(p + 20, true);
    if (memsz === 0) continue;
    segments.push({ paddr, data: buf.subarray(off, off + filesz), memsz });
  }
  const symbols = new Map<string, number>();
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    if (dv.getUint32(s + 4, true) !== 2) continue; // SHT_SYMTAB
    const off = word(s + (is64 ? 24 : 16));
    const size = word(s + (is64 ? 32 : 20));
    const link = dv.getUint32(s + (is64 ? 40 : 24), true);
    const entsize = word(s + (is64 ? 56 : 36));
    const strOff = word(shoff + link * shentsize + (is64 ? 24 : 16));
    for (let e = off; entsize > 0 && e + entsize <= off + size; e += entsize) {
      const nameOff = dv.getUint32(e, true);
      let end = strOff + nameOff;
      while (end < buf.length && buf[end] !== 0) end++;
      const name = new TextDecoder().decode(buf.subarray(strOff + nameOff, end));
      if (name) symbols.set(name, is64 ? word(e + 8) : dv.getUint32(e + 4, true));
    }
  }
  return { is64, machine, entry, segments, symbols };
}

export interface ElfLoadResult {
  entry: number;
  lowAddr: number;
  highAddr: number;
  symbols: Map<string, number>;
}

/**
 * load_elf_ram_sym(): register each loadable segment as a rom named after the file. Returns null when
 * the file is not ELF (callers then try other formats); throws for an ELF of another machine.
 */
export function loadElf(
  filename: string,
  as: AddressSpace,
  opts: {
    machine?: number;
    translate?: (addr: number) => number;
    symCb?: (name: string, addr: number) => void;
  } = {},
): ElfLoadResult | null {
  let buf: Uint8Array;
  try {
    buf = readFileSync(filename);
  } catch {
    return null;
  }
  const elf = parseElf(buf);
  if (!elf) return null;
  if (opts.machine !== undefined && elf.machine !== opts.machine) return null;
  const tr = opts.translate ?? ((a: number) => a);
  let low = Infinity;
  let high = 0;
  for (const seg of elf.segments) {
    const addr = tr(seg.paddr);
    romAddBlobFixed(filename, seg.data, addr, as, seg.memsz);
    low = Math.min(low, addr);
    high = Math.max(high, addr + seg.memsz);
  }
  if (opts.symCb) for (const [name, addr] of elf.symbols) opts.symCb(name, addr);
  return { entry: tr(elf.entry), lowAddr: low === Infinity ? 0 : low, highAddr: high, symbols: elf.symbols };
}
