/**
 * The RV64GC hart: an interpreter over a per-page decoded-instruction cache, with software TLBs.
 *
 * Design (speed without allocation):
 * - State in typed arrays (see cpu-state.ts); 64-bit values are (lo, hi) int32 pairs, so integer
 *   arithmetic never allocates (int64.ts). BigInt appears only in rare slow paths (64-bit division of
 *   large values, the exact soft-float path).
 * - Decoded-instruction cache per guest physical page (shared by all harts): 2048 slots (one per
 *   halfword) of 3 int32s: [op | rd*2 << 10 | rs1*2 << 17 | rs2*2 << 23 | rvc << 29, imm, raw].
 *   Register indices are pre-doubled (index into `x`), rd = x0 becomes the sink 64. A slot of 0 is
 *   "not decoded yet". Pages are marked in their RamBlock's `codePages`; any write to such a page
 *   (CPU slow path, DMA, loaders) zeroes the page's slots in place, so references held by the ITLB and
 *   the run loop stay valid. Write TLB entries are never created for code pages, so ordinary stores
 *   stay on the fast path and stores to code take the slow path that invalidates.
 * - Software TLBs, one per (privilege [U, S, S with SUM, M], access kind), direct-mapped with 1024 entries, tagged with
 *   the full virtual page (lo & ~0xfff, hi). An entry maps to (RamBlock, page offset) and exists only
 *   if the access is permitted (page tables and PMP), the page is RAM, and for writes the PTE's D bit
 *   is set. Alignment is folded into the tag compare (misaligned -> slow path). MMIO never enters the
 *   TLB. Flushed on satp/sfence.vma/PMP/mstatus MPRV,SUM,MXR changes and memory map changes.
 * - Dispatch: one function per instruction from the instruction table (insns.ts), called with the
 *   unpacked operands. Jumps write `npcLo/npcHi`; traps redirect them. Faulting memory helpers set
 *   `fault` and the handler returns before writing its destination.
 * - JIT (jit.ts, opt-in: `jit` / jitConfig.enabled): hot block starts are translated into JS
 *   functions per physical page (regions of blocks, registers in locals); `run()` dispatches to them
 *   at block starts and interprets everything else. Same exits, budgets and exceptions as here.
 * - Interrupts are checked only when `attn` is set (any change to mip/mie/mstatus/priv/delegation);
 *   the hot loop tests one field per instruction.
 *
 * State for VMState (everything else is a cache rebuilt by `stateChanged()` + `flushTlb()`):
 *   x: Int32Array(64 used of 66), f: Int32Array(64), csr: Int32Array(CSR_SLOTS*2) (slot names in
 *   CSR_SLOT_NAMES), pmp.cfg: Uint8Array(16) (call pmp.recompute() after loading), and the scalars
 *   npcLo/npcHi (the architectural pc between instructions), priv, wfi, resAddr/resValLo/resValHi
 *   (LR reservation) and instret.
 */
import { AddressSpace, MEMTX_OK, type FlatRange } from '../../system/memory.js';
import { RamBlock, ramBlocks } from '../../system/physmem.js';
import {
  CSR_FCSR,
  CSR_MCAUSE,
  CSR_MEDELEG,
  CSR_MENVCFG,
  CSR_MEPC,
  CSR_MIDELEG,
  CSR_MIE,
  CSR_MIP,
  CSR_MSTATUS,
  CSR_MTVAL,
  CSR_MTVEC,
  CSR_SATP,
  CSR_SCAUSE,
  CSR_SEPC,
  CSR_SLOTS,
  CSR_STIMECMP,
  CSR_STVAL,
  CSR_STVEC,
  EXCP_ILLEGAL_INST,
  EXCP_INST_ACCESS_FAULT,
  EXCP_INST_PAGE_FAULT,
  EXCP_LOAD_ACCESS_FAULT,
  EXCP_LOAD_PAGE_FAULT,
  EXCP_STORE_AMO_ACCESS_FAULT,
  EXCP_STORE_PAGE_FAULT,
  IRQ_M_EXT,
  IRQ_M_SOFT,
  IRQ_M_TIMER,
  IRQ_S_EXT,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  MENVCFG_HI_STCE,
  MIP_STIP,
  MSTATUS_FS,
  MSTATUS_HI_SD,
  MSTATUS_HI_XL,
  MSTATUS_MIE,
  MSTATUS_MPIE,
  MSTATUS_MPP,
  MSTATUS_MPP_SHIFT,
  MSTATUS_MPRV,
  MSTATUS_MXR,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  MSTATUS_SUM,
  PRV_M,
  PRV_S,
  PRV_U,
} from './cpu-state.js';
import { Pmp, PMP_R, PMP_W, PMP_X } from './pmp.js';
import { arenaAlloc, arenaBuffer } from '../../system/guest-arena.js';
import {
  compileRegions,
  enterWasm,
  genRegionWasm,
  ST_NPC,
  ST_SIZE,
  ST_TLBR,
  ST_TLBW,
  type PendingRegion,
} from './wasm-jit.js';
import { decodeInsn, OP_CROSS, HANDLERS } from './decode.js';
import { TLB_HOST, TLB_MASK, TLB_SIZE, WTLB_BYTES } from './tlb-geometry.js';
import {
  EMPTY_JIT,
  ENDS_BLOCK,
  flushJitCache,
  jitConfig,
  jitStats,
  NEVER,
  newJitPage,
  translate,
  type JitPage,
} from './jit.js';

export { TLB_BITS, TLB_SIZE } from './tlb-geometry.js';

export const ACC_R = 0;
export const ACC_W = 1;
export const ACC_X = 2;

const SLOTS_PER_PAGE = 2048;
const SLOT_WORDS = 3;

/**
 * Tag low word of an empty TLB entry: bit 3 set, which no lookup key has (keys are the page address
 * plus at most the low 3 bits of a misaligned access), whatever the high word holds.
 */
export const TLB_EMPTY = 8;

/** Pages covered by a leaf PTE at each level (4 KiB, 2 MiB, 1 GiB, 512 GiB, 256 TiB). */
const SUPERPAGE_SPAN = [1, 2 ** 9, 2 ** 18, 2 ** 27, 2 ** 36];

/** Whether a leaf PTE's PPN has its low `bits` bits clear (a superpage must be aligned). */
function ppnAligned(pteLo: number, pteHi: number, bits: number): boolean {
  // The PPN's low 22 bits are pteLo[31:10]; the rest come from pteHi.
  if (bits <= 22) return ((pteLo >>> 10) & ((1 << bits) - 1)) === 0;
  return pteLo >>> 10 === 0 && (pteHi & ((1 << (bits - 22)) - 1)) === 0;
}

/** Direct-mapped software TLB for one (privilege, access kind). */
export class Tlb {
  /** (page lo, hi) tags; TLB_EMPTY in lo marks an empty entry. */
  readonly tag = new Int32Array(TLB_SIZE * 2).fill(TLB_EMPTY);
  /**
   * The WebAssembly translator's copy (wasm-jit.ts), in the arena at `waddr`: the same tags, but
   * only for pages of RAM blocks inside the arena, with `host` = the page's arena address.
   */
  readonly waddr: number;
  readonly wtag: Int32Array;
  readonly host: Int32Array;
  /** Byte offset of the page inside its RamBlock. */
  readonly off = new Int32Array(TLB_SIZE);
  readonly blk: RamBlock[] = new Array<RamBlock>(TLB_SIZE).fill(DUMMY_BLOCK());
  /** For fetch TLBs: the decoded page. */
  readonly code: Int32Array[] = new Array<Int32Array>(TLB_SIZE).fill(EMPTY_CODE);
  /** For fetch TLBs: the page's compiled blocks (jit.ts). */
  readonly jit: JitPage[] = new Array<JitPage>(TLB_SIZE).fill(EMPTY_JIT);
  constructor() {
    this.waddr = arenaAlloc(WTLB_BYTES, 64);
    const buf = this.waddr >= 0 ? arenaBuffer() : new ArrayBuffer(WTLB_BYTES);
    const at = Math.max(0, this.waddr);
    this.wtag = new Int32Array(buf, at, TLB_SIZE * 2).fill(TLB_EMPTY);
    this.host = new Int32Array(buf, at + TLB_HOST, TLB_SIZE);
  }
  flush(): void {
    this.tag.fill(TLB_EMPTY);
    this.wtag.fill(TLB_EMPTY);
  }
  /** Drop entry i. */
  drop(i: number): void {
    this.tag[i << 1] = TLB_EMPTY;
    this.wtag[i << 1] = TLB_EMPTY;
  }
}
let dummy: RamBlock | null = null;
function DUMMY_BLOCK(): RamBlock {
  return (dummy ??= new RamBlock('tlb-dummy', 4096));
}
const EMPTY_CODE = new Int32Array(SLOTS_PER_PAGE * SLOT_WORDS);

/** Decoded pages per RamBlock id (shared by all harts). */
const codeCache: Array<Array<Int32Array | undefined>> = [];
/** Compiled blocks per RamBlock id and page, parallel to `codeCache`. */
const jitCache: Array<Array<JitPage | undefined>> = [];
/** Every hart, so marking a page as code can drop write-TLB entries everywhere. */
const allCpus: RiscvCpu[] = [];

function jitPageFor(blk: RamBlock, pageOff: number): JitPage {
  const pages = (jitCache[blk.id] ??= []);
  return (pages[pageOff >>> 12] ??= newJitPage());
}

function codePageFor(blk: RamBlock, pageOff: number): Int32Array {
  let pages = codeCache[blk.id];
  if (!pages) {
    pages = codeCache[blk.id] = [];
    blk.onCodeWrite = (page) => {
      const p = codeCache[blk.id]?.[page];
      if (p) p.fill(0);
      const j = jitCache[blk.id]?.[page];
      if (j) {
        j.clear();
        j.writes++;
        jitStats.invalidations++;
      }
      blk.codePages[page] = 0;
      // A block running on this page stops after the store (its remaining code may be stale).
      for (const c of allCpus) c.attn = 1;
    };
  }
  const page = pageOff >>> 12;
  let arr = pages[page];
  if (!arr) arr = pages[page] = new Int32Array(SLOTS_PER_PAGE * SLOT_WORDS);
  if (!blk.codePages[page]) {
    blk.codePages[page] = 1;
    for (const c of allCpus) c.flushWriteTlbs();
  }
  return arr;
}

/** Time source for `time`, Sstc and WFI sleeps; the CLINT provides the machine's one. */
export interface TimeSource {
  /** Current mtime in ticks. */
  ticks(): number;
  /** Ticks per second (10 MHz on virt). */
  readonly frequency: number;
}

export interface RiscvCpuConfig {
  hartid?: number;
  resetvec?: number;
  /** Physical address space the hart uses (cpu-memory-N). */
  as: AddressSpace;
  time?: TimeSource;
  /** satp modes accepted (QEMU rv64: sv39, sv48, sv57). */
  satpModes?: number[];
}

export class RiscvCpu {
  // --- architectural state (see cpu-state.ts) ---
  readonly x: Int32Array;
  /**
   * The hart's state block in the arena (wasm-jit.ts ST_*): `x` at its start, then the fields
   * translated code exchanges with JavaScript. `stAddr` is -1 when the arena was full (no wasm).
   */
  readonly stAddr: number;
  readonly stWords: Int32Array;
  readonly fbuf = new ArrayBuffer(256);
  readonly f = new Int32Array(this.fbuf);
  readonly f64 = new Float64Array(this.fbuf);
  readonly f32 = new Float32Array(this.fbuf);
  readonly csr = new Int32Array(CSR_SLOTS * 2);
  readonly pmp: Pmp;
  pcLo = 0;
  pcHi = 0;
  npcLo = 0;
  npcHi = 0;
  priv = PRV_M;
  /** Waiting for an interrupt (WFI). */
  wfi = false;
  /** LR reservation: physical address (-1 = none) and the value loaded. */
  resAddr = -1;
  resValLo = 0;
  resValHi = 0;
  /** Instructions retired since reset (cycle and instret derive from it). */
  instret = 0;

  // --- configuration ---
  readonly hartid: number;
  resetvec: number;
  readonly as: AddressSpace;
  time: TimeSource | null;
  readonly satpModes: number[];

  // --- hot-path helpers (not architectural) ---
  /** Run compiled blocks (jit.ts); false = interpret every instruction. */
  jit = jitConfig.enabled;
  /**
   * Set by memory helpers when they raised an exception; handlers return at once. Raising also
   * sets `attn`, and the run loop clears `fault` there, so it is only ever true right after the
   * access that faulted.
   */
  fault = false;
  /** Non-zero when the run loop must look at interrupts or stop. */
  attn = 1;
  /** Stop the current slice after this instruction. */
  exitReq = false;
  /** Instructions executed in the current slice so far (for counters read mid-slice). */
  sliceN = 0;
  /** Bumped when fetch translation may have changed (priv, satp, TLB flush). */
  codeGen = 0;
  /** High word returned by 64-bit loads and CSR reads. */
  rhi = 0;
  /** mstatus.FS is Off: FP instructions and fcsr are illegal. */
  fsOff = false;
  readonly tlbs: Tlb[][];
  tlbR: Tlb;
  tlbW: Tlb;
  tlbX: Tlb;
  /** Hook for the machine: called on WFI/interrupt changes so a sleeping run loop wakes up. */
  onKick: (() => void) | null = null;
  /** Hook for the run loop: stimecmp/menvcfg changed, so the next timer deadline may have moved. */
  onTimerChange: (() => void) | null = null;

  constructor(cfg: RiscvCpuConfig) {
    this.stAddr = arenaAlloc(ST_SIZE, 64);
    const stBuf = this.stAddr >= 0 ? arenaBuffer() : new ArrayBuffer(ST_SIZE);
    this.stWords = new Int32Array(stBuf, Math.max(0, this.stAddr), ST_SIZE >> 2);
    this.x = new Int32Array(stBuf, Math.max(0, this.stAddr), 66);
    this.hartid = cfg.hartid ?? 0;
    this.resetvec = cfg.resetvec ?? 0x1000;
    this.as = cfg.as;
    this.time = cfg.time ?? null;
    this.satpModes = cfg.satpModes ?? [8, 9, 10];
    this.pmp = new Pmp(this.csr);
    this.tlbs = [0, 1, 2, 3].map(() => [new Tlb(), new Tlb(), new Tlb()]);
    this.tlbR = this.tlbs[PRV_M][ACC_R];
    this.tlbW = this.tlbs[PRV_M][ACC_W];
    this.tlbX = this.tlbs[PRV_M][ACC_X];
    this.as.onChange(() => this.flushTlb());
    allCpus.push(this);
    this.reset();
  }

  /** Forget this hart (tests create many). */
  destroy(): void {
    const i = allCpus.indexOf(this);
    if (i >= 0) allCpus.splice(i, 1);
  }

  reset(): void {
    this.x.fill(0);
    this.f.fill(0);
    this.csr.fill(0);
    this.csr[CSR_MSTATUS * 2 + 1] = MSTATUS_HI_XL;
    this.pmp.cfg.fill(0);
    this.pmp.recompute();
    this.priv = PRV_M;
    this.wfi = false;
    this.resAddr = -1;
    this.instret = 0;
    this.setPc(this.resetvec, 0);
    this.stateChanged();
  }

  setPc(lo: number, hi: number): void {
    this.pcLo = this.npcLo = lo | 0;
    this.pcHi = this.npcHi = hi | 0;
  }

  // ------------------------------------------------------------------------------------------
  // Register helpers (for tests, monitor and loaders; the hot path indexes `x` directly)

  getX(i: number): bigint {
    return (BigInt(this.x[2 * i + 1]) << 32n) | BigInt(this.x[2 * i] >>> 0);
  }
  setX(i: number, v: bigint): void {
    if (i === 0) return;
    this.x[2 * i] = Number(BigInt.asIntN(32, v));
    this.x[2 * i + 1] = Number(BigInt.asIntN(32, v >> 32n));
  }
  get pc(): bigint {
    return (BigInt(this.npcHi >>> 0) << 32n) | BigInt(this.npcLo >>> 0);
  }

  csrLo(slot: number): number {
    return this.csr[slot * 2];
  }
  csrHi(slot: number): number {
    return this.csr[slot * 2 + 1];
  }

  // ------------------------------------------------------------------------------------------
  // State-change bookkeeping

  /** Re-derive cached views of mstatus/priv: TLB selection, FS, interrupt check. */
  stateChanged(): void {
    const ms = this.csr[CSR_MSTATUS * 2];
    const fs = ms & MSTATUS_FS;
    this.fsOff = fs === 0;
    // SD mirrors FS == dirty (XS is always 0 here).
    if (fs === MSTATUS_FS) this.csr[CSR_MSTATUS * 2 + 1] |= MSTATUS_HI_SD;
    else this.csr[CSR_MSTATUS * 2 + 1] &= ~MSTATUS_HI_SD;
    const dpriv =
      ms & MSTATUS_MPRV && this.priv === PRV_M ? (ms & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT : this.priv;
    // Data TLB sets: 0 U, 1 S, 2 S with SUM (U pages readable), 3 M.
    const set = dpriv === PRV_S && ms & MSTATUS_SUM ? 2 : dpriv;
    this.tlbR = this.tlbs[set][ACC_R];
    this.tlbW = this.tlbs[set][ACC_W];
    this.tlbX = this.tlbs[this.priv][ACC_X];
    this.stWords[ST_TLBR >> 2] = this.tlbR.waddr;
    this.stWords[ST_TLBW >> 2] = this.tlbW.waddr;
    this.codeGen++;
    this.attn = 1;
  }

  flushTlb(): void {
    for (const set of this.tlbs) for (const t of set) t.flush();
    this.ptPage.fill(-1);
    this.lpFirst = Infinity;
    this.lpEnd = -Infinity;
    this.codeGen++;
    this.attn = 1; // the run loop re-translates its fetch page
  }

  /**
   * Virtual page numbers (hi * 2^20 + lo >>> 12, signed) covered by superpage translations since the
   * last full flush: a page flush inside that range must drop everything (QEMU's large-page range).
   */
  private lpFirst = Infinity;
  private lpEnd = -Infinity;

  /** sfence.vma with an address: drop the translations of one virtual page (lo, hi). */
  flushPage(lo: number, hi: number): void {
    const vpn = hi * 1048576 + (lo >>> 12);
    if (vpn >= this.lpFirst && vpn < this.lpEnd) {
      this.flushTlb();
      return;
    }
    const i = (lo >>> 12) & TLB_MASK;
    const tagLo = lo & -4096;
    for (const set of this.tlbs)
      for (const t of set) if (t.tag[i << 1] === tagLo && t.tag[(i << 1) | 1] === hi) t.drop(i);
    this.codeGen++;
    this.attn = 1;
  }
  flushWriteTlbs(): void {
    for (const set of this.tlbs) set[ACC_W].flush();
  }

  /** Mark FS dirty after an FP register or fcsr write. */
  fsDirty(): void {
    const p = CSR_MSTATUS * 2;
    if ((this.csr[p] & MSTATUS_FS) !== MSTATUS_FS) {
      this.csr[p] |= MSTATUS_FS;
      this.csr[p + 1] |= MSTATUS_HI_SD;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Interrupts

  /** Drive an interrupt line from a device (CLINT: MSIP/MTIP, PLIC: MEIP/SEIP). */
  setIrqLine(irq: number, level: boolean): void {
    const p = CSR_MIP * 2;
    const old = this.csr[p];
    this.csr[p] = level ? old | (1 << irq) : old & ~(1 << irq);
    if (this.csr[p] !== old) {
      this.attn = 1;
      if (level && this.wfi) this.onKick?.();
    }
  }

  /** mip as software sees it (STIP from stimecmp when Sstc is on). */
  readMip(): number {
    let mip = this.csr[CSR_MIP * 2];
    if (this.csr[CSR_MENVCFG * 2 + 1] & MENVCFG_HI_STCE) {
      mip = this.stimecmpDue() ? mip | MIP_STIP : mip & ~MIP_STIP;
    }
    return mip;
  }

  stimecmpDue(): boolean {
    if (!this.time) return false;
    const cmp = (this.csr[CSR_STIMECMP * 2 + 1] >>> 0) * 4294967296 + (this.csr[CSR_STIMECMP * 2] >>> 0);
    return this.time.ticks() >= cmp;
  }

  /** Next time (in ticks) this hart's own timer (stimecmp) fires, or Infinity. */
  nextTimerTicks(): number {
    if (!(this.csr[CSR_MENVCFG * 2 + 1] & MENVCFG_HI_STCE)) return Infinity;
    const cmp = (this.csr[CSR_STIMECMP * 2 + 1] >>> 0) * 4294967296 + (this.csr[CSR_STIMECMP * 2] >>> 0);
    return cmp;
  }

  /** The highest-priority interrupt to take now, or -1. */
  pendingInterrupt(): number {
    const pending = this.readMip() & this.csr[CSR_MIE * 2];
    if (pending === 0) return -1;
    const ms = this.csr[CSR_MSTATUS * 2];
    const mideleg = this.csr[CSR_MIDELEG * 2];
    const mEnabled = this.priv < PRV_M || (ms & MSTATUS_MIE) !== 0;
    const sEnabled = this.priv < PRV_S || (this.priv === PRV_S && (ms & MSTATUS_SIE) !== 0);
    let irqs = mEnabled ? pending & ~mideleg : 0;
    if (irqs === 0 && sEnabled) irqs = pending & mideleg;
    if (irqs === 0) return -1;
    for (const i of IRQ_PRIORITY) if (irqs & (1 << i)) return i;
    return 31 - Math.clz32(irqs);
  }

  /** Called by the run loop when `attn` is set; returns true if the slice must stop. */
  service(): boolean {
    this.attn = 0;
    const irq = this.pendingInterrupt();
    if (irq >= 0) {
      this.wfi = false;
      this.trap(irq, true, 0, 0);
    }
    if (this.exitReq) {
      this.exitReq = false;
      return true;
    }
    return this.wfi;
  }

  /** Is any interrupt pending and locally enabled (wakes WFI regardless of global enables)? */
  wakeable(): boolean {
    return (this.readMip() & this.csr[CSR_MIE * 2]) !== 0;
  }

  // ------------------------------------------------------------------------------------------
  // Traps

  /** Raise a synchronous exception for the current instruction. */
  raise(cause: number, tvalLo: number, tvalHi: number): void {
    this.fault = true;
    this.trap(cause, false, tvalLo, tvalHi);
  }

  illegal(raw: number): void {
    this.raise(EXCP_ILLEGAL_INST, raw, 0);
  }

  /** Enter the trap handler (M or S by delegation) for `cause`. */
  trap(cause: number, isIrq: boolean, tvalLo: number, tvalHi: number): void {
    const c = this.csr;
    const deleg = isIrq ? c[CSR_MIDELEG * 2] : c[CSR_MEDELEG * 2];
    const msp = CSR_MSTATUS * 2;
    let ms = c[msp];
    const epcLo = isIrq ? this.npcLo : this.pcLo;
    const epcHi = isIrq ? this.npcHi : this.pcHi;
    const causeHi = isIrq ? 0x80000000 | 0 : 0;
    if (this.priv <= PRV_S && cause < 32 && (deleg >>> cause) & 1) {
      c[CSR_SCAUSE * 2] = cause;
      c[CSR_SCAUSE * 2 + 1] = causeHi;
      c[CSR_SEPC * 2] = epcLo;
      c[CSR_SEPC * 2 + 1] = epcHi;
      c[CSR_STVAL * 2] = tvalLo;
      c[CSR_STVAL * 2 + 1] = tvalHi;
      ms =
        (ms & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE)) |
        (this.priv << 8) |
        (ms & MSTATUS_SIE ? MSTATUS_SPIE : 0);
      c[msp] = ms;
      this.setTrapPc(c[CSR_STVEC * 2], c[CSR_STVEC * 2 + 1], isIrq, cause);
      this.priv = PRV_S;
    } else {
      c[CSR_MCAUSE * 2] = cause;
      c[CSR_MCAUSE * 2 + 1] = causeHi;
      c[CSR_MEPC * 2] = epcLo;
      c[CSR_MEPC * 2 + 1] = epcHi;
      c[CSR_MTVAL * 2] = tvalLo;
      c[CSR_MTVAL * 2 + 1] = tvalHi;
      ms =
        (ms & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE)) |
        (this.priv << MSTATUS_MPP_SHIFT) |
        (ms & MSTATUS_MIE ? MSTATUS_MPIE : 0);
      c[msp] = ms;
      this.setTrapPc(c[CSR_MTVEC * 2], c[CSR_MTVEC * 2 + 1], isIrq, cause);
      this.priv = PRV_M;
    }
    this.resAddr = -1;
    this.stateChanged();
  }

  private setTrapPc(lo: number, hi: number, isIrq: boolean, cause: number): void {
    const vectored = (lo & 3) === 1 && isIrq;
    let base = lo & ~3;
    if (vectored) base = (base + 4 * cause) | 0; // tvec is 4-byte aligned; no carry for small causes
    this.npcLo = base;
    this.npcHi = hi;
  }

  /** mret / sret */
  xret(fromM: boolean): void {
    const c = this.csr;
    const msp = CSR_MSTATUS * 2;
    let ms = c[msp];
    let newPriv: number;
    if (fromM) {
      newPriv = (ms & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
      ms = (ms & ~(MSTATUS_MIE | MSTATUS_MPP)) | (ms & MSTATUS_MPIE ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
      this.npcLo = c[CSR_MEPC * 2] & ~1;
      this.npcHi = c[CSR_MEPC * 2 + 1];
    } else {
      newPriv = ms & MSTATUS_SPP ? PRV_S : PRV_U;
      ms = (ms & ~(MSTATUS_SIE | MSTATUS_SPP)) | (ms & MSTATUS_SPIE ? MSTATUS_SIE : 0) | MSTATUS_SPIE;
      this.npcLo = c[CSR_SEPC * 2] & ~1;
      this.npcHi = c[CSR_SEPC * 2 + 1];
    }
    if (newPriv !== PRV_M) ms &= ~MSTATUS_MPRV;
    c[msp] = ms;
    this.priv = newPriv;
    this.resAddr = -1;
    this.stateChanged();
  }

  // ------------------------------------------------------------------------------------------
  // Address translation (slow path)

  /** Physical address of the last successful `translate`. */
  private tPage = 0;
  /** Set by translate: may the result enter the TLB (PMP uniform over the page)? */
  private tCacheable = false;

  /**
   * Translate virtual (lo, hi) for `acc` at the effective privilege; returns the physical address or
   * -1 after raising the page/access fault.
   */
  translate(lo: number, hi: number, acc: number, size: number): number {
    let priv = this.priv;
    const ms = this.csr[CSR_MSTATUS * 2];
    if (acc !== ACC_X && ms & MSTATUS_MPRV && priv === PRV_M) priv = (ms & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
    let pa: number;
    const satpHi = this.csr[CSR_SATP * 2 + 1];
    const mode = satpHi >>> 28;
    if (priv === PRV_M || mode === 0) {
      pa = (hi >>> 0) * 4294967296 + (lo >>> 0);
      if (pa >= 2 ** 56 || hi < 0) pa = 2 ** 60; // beyond the physical address space: no region
    } else {
      pa = this.walk(lo, hi, acc, priv, mode);
      if (pa < 0) return -1;
    }
    const perm = acc === ACC_R ? PMP_R : acc === ACC_W ? PMP_W : PMP_X;
    const page = pa - (pa % 4096);
    if (this.pmp.active === 0) {
      this.tCacheable = true;
      if (priv !== PRV_M) {
        this.accessFault(acc, lo, hi);
        return -1;
      }
    } else {
      const d = this.pmp.pageDecision(page, perm, priv);
      this.tCacheable = d === 1;
      if (d === 0 || (d < 0 && !this.pmp.check(pa, size, perm, priv))) {
        this.accessFault(acc, lo, hi);
        return -1;
      }
    }
    this.tPage = page;
    return pa;
  }

  private accessFault(acc: number, lo: number, hi: number): void {
    this.raise(
      acc === ACC_R
        ? EXCP_LOAD_ACCESS_FAULT
        : acc === ACC_W
          ? EXCP_STORE_AMO_ACCESS_FAULT
          : EXCP_INST_ACCESS_FAULT,
      lo,
      hi,
    );
  }
  private pageFault(acc: number, lo: number, hi: number): void {
    this.raise(
      acc === ACC_R ? EXCP_LOAD_PAGE_FAULT : acc === ACC_W ? EXCP_STORE_PAGE_FAULT : EXCP_INST_PAGE_FAULT,
      lo,
      hi,
    );
  }

  /**
   * Page-table pages the walk read recently, one per level: physical page address (-1: none), and
   * where it is in RAM. Only pages PMP allows S-mode to read as a whole and that lie in one RAM
   * block are kept; a TLB flush (which PMP and memory-map changes cause too) empties them. Why: a
   * walk follows ~1900 full flushes per Linux boot, and checking PMP and resolving the address for
   * each of its 3-5 reads dominated it.
   */
  private readonly ptPage = new Float64Array(5).fill(-1);
  private readonly ptBlk: RamBlock[] = new Array<RamBlock>(5).fill(DUMMY_BLOCK());
  private readonly ptOff = new Int32Array(5);

  /** Read the PTE at `off` in page-table page `page`: low word returned, high word in `pteHiOut`; null on a fault. */
  private pteHiOut = 0;
  private readPte(page: number, off: number, level: number): number | null {
    const pteAddr = page + off;
    if (this.ptPage[level] === page) {
      const i = (this.ptOff[level]! + off) >> 2;
      const w = this.ptBlk[level]!.i32;
      this.pteHiOut = w[i + 1]!;
      return w[i]!;
    }
    if (pteAddr >= 2 ** 53 || !this.pmp.check(pteAddr, 8, PMP_R, PRV_S)) return null;
    const as = this.as;
    const lo = as.read(pteAddr, 8);
    if (as.result !== MEMTX_OK) return null;
    this.pteHiOut = as.hi | 0;
    // Remember the page when all of it is plain RAM that PMP lets S-mode read.
    const r = as.lookup(page);
    if (
      r !== null &&
      r.ramBlock !== null &&
      page + 4096 <= r.end &&
      this.pmp.pageDecision(page, PMP_R, PRV_S) === 1
    ) {
      this.ptPage[level] = page;
      this.ptBlk[level] = r.ramBlock;
      this.ptOff[level] = page - r.start + r.offset;
    }
    return lo | 0;
  }

  /** Sv39/Sv48/Sv57 page walk with A/D updates; -1 after raising a fault. */
  private walk(lo: number, hi: number, acc: number, priv: number, mode: number): number {
    const levels = mode - 5; // 8 -> 3, 9 -> 4, 10 -> 5
    const vaBits = 12 + 9 * levels;
    // Bits above vaBits-1 must all equal bit vaBits-1.
    const top = hi >> (vaBits - 1 - 32);
    if (top !== 0 && top !== -1) {
      this.pageFault(acc, lo, hi);
      return -1;
    }
    const satpLo = this.csr[CSR_SATP * 2];
    const satpHi = this.csr[CSR_SATP * 2 + 1];
    let base = (satpHi & 0xfff) * 4294967296 + (satpLo >>> 0);
    base *= 4096;
    const ms = this.csr[CSR_MSTATUS * 2];
    const as = this.as;
    for (let level = levels - 1; level >= 0; level--) {
      const s = 12 + 9 * level;
      const vpn =
        s + 9 <= 32
          ? (lo >>> s) & 0x1ff
          : s >= 32
            ? (hi >>> (s - 32)) & 0x1ff
            : ((lo >>> s) | (hi << (32 - s))) & 0x1ff;
      const pteAddr = base + vpn * 8;
      const read = this.readPte(base, vpn * 8, level);
      if (read === null) {
        this.accessFault(acc, lo, hi);
        return -1;
      }
      let pteLo = read;
      const pteHi = this.pteHiOut;
      // V=0, W without R, reserved bits 60:54, PBMT and N (Svpbmt/Svnapot not implemented)
      if (!(pteLo & 1) || (pteLo & 6) === 4 || pteHi >>> 22 !== 0) {
        this.pageFault(acc, lo, hi);
        return -1;
      }
      const ppn = (pteHi & 0x3fffff) * 4194304 + (pteLo >>> 10);
      if (!(pteLo & 0xa)) {
        // pointer to the next level
        if (level === 0 || pteLo & 0xd0) {
          this.pageFault(acc, lo, hi);
          return -1;
        }
        base = ppn * 4096;
        continue;
      }
      // Leaf: permissions
      const u = pteLo & 0x10;
      if (priv === PRV_U ? !u : u && (acc === ACC_X || !(ms & MSTATUS_SUM))) {
        this.pageFault(acc, lo, hi);
        return -1;
      }
      const ok =
        acc === ACC_X ? pteLo & 8 : acc === ACC_R ? pteLo & 2 || (ms & MSTATUS_MXR && pteLo & 8) : pteLo & 4;
      if (!ok) {
        this.pageFault(acc, lo, hi);
        return -1;
      }
      // Superpage alignment
      if (level > 0 && !ppnAligned(pteLo, pteHi, 9 * level)) {
        this.pageFault(acc, lo, hi);
        return -1;
      }
      // A/D update (QEMU updates them in hardware)
      const want = 0x40 | (acc === ACC_W ? 0x80 : 0);
      if ((pteLo & want) !== want) {
        if (as.write(pteAddr, 4, (pteLo | want) >>> 0) !== MEMTX_OK) {
          this.accessFault(acc, lo, hi);
          return -1;
        }
        pteLo |= want;
      }
      // Physical page: superpages take the low VPN bits from the virtual address.
      let pagePpn = ppn;
      if (level > 0) {
        const bits = 9 * level;
        const span = SUPERPAGE_SPAN[level]!;
        const vpn = hi * 1048576 + (lo >>> 12);
        // vpn mod span, non-negative; spans below 2^20 pages are the low bits of lo's page number.
        const first = vpn - (bits < 20 ? (lo >>> 12) & (span - 1) : ((vpn % span) + span) % span);
        if (first < this.lpFirst) this.lpFirst = first;
        if (first + span > this.lpEnd) this.lpEnd = first + span;
        pagePpn +=
          bits <= 20
            ? (lo >>> 12) & ((1 << bits) - 1)
            : ((hi >>> 0) % 2 ** (bits - 20)) * 1048576 + (lo >>> 12);
      }
      return pagePpn * 4096 + (lo & 0xfff);
    }
    this.pageFault(acc, lo, hi);
    return -1;
  }

  // ------------------------------------------------------------------------------------------
  // Data access. Fast paths inline in handlers via these small methods; slow paths below.

  ld8(lo: number, hi: number): number {
    const t = this.tlbR;
    const i = (lo >>> 12) & TLB_MASK;
    if (t.tag[i << 1] === (lo & -4096) && t.tag[(i << 1) | 1] === hi)
      return t.blk[i].u8[t.off[i] + (lo & 0xfff)];
    return this.loadSlow(lo, hi, 1);
  }
  ld16(lo: number, hi: number): number {
    const t = this.tlbR;
    const i = (lo >>> 12) & TLB_MASK;
    if (t.tag[i << 1] === (lo & -4095) && t.tag[(i << 1) | 1] === hi)
      return t.blk[i].u16[(t.off[i] + (lo & 0xfff)) >>> 1];
    return this.loadSlow(lo, hi, 2);
  }
  /** Returns the value as int32. */
  ld32(lo: number, hi: number): number {
    const t = this.tlbR;
    const i = (lo >>> 12) & TLB_MASK;
    if (t.tag[i << 1] === (lo & -4093) && t.tag[(i << 1) | 1] === hi)
      return t.blk[i].i32[(t.off[i] + (lo & 0xfff)) >>> 2];
    return this.loadSlow(lo, hi, 4) | 0;
  }
  /** Returns the low word; high word in `rhi`. */
  ld64(lo: number, hi: number): number {
    const t = this.tlbR;
    const i = (lo >>> 12) & TLB_MASK;
    if (t.tag[i << 1] === (lo & -4089) && t.tag[(i << 1) | 1] === hi) {
      const a = t.blk[i].i32;
      const o = (t.off[i] + (lo & 0xfff)) >>> 2;
      this.rhi = a[o + 1];
      return a[o];
    }
    return this.loadSlow(lo, hi, 8) | 0;
  }
  st8(lo: number, hi: number, v: number): void {
    const t = this.tlbW;
    const i = (lo >>> 12) & TLB_MASK;
    if (t.tag[i << 1] === (lo & -4096) && t.tag[(i << 1) | 1] === hi) {
      t.blk[i].u8[t.off[i] + (lo & 0xfff)] = v;
      return;
    }
    this.storeSlow(lo, hi, 1, v, 0);
  }
  st16(lo: number, hi: number, v: number): void {
    const t = this.tlbW;
    const i = (lo >>> 12) & TLB_MASK;
    if (t.tag[i << 1] === (lo & -4095) && t.tag[(i << 1) | 1] === hi) {
      t.blk[i].u16[(t.off[i] + (lo & 0xfff)) >>> 1] = v;
      return;
    }
    this.storeSlow(lo, hi, 2, v, 0);
  }
  st32(lo: number, hi: number, v: number): void {
    const t = this.tlbW;
    const i = (lo >>> 12) & TLB_MASK;
    if (t.tag[i << 1] === (lo & -4093) && t.tag[(i << 1) | 1] === hi) {
      t.blk[i].i32[(t.off[i] + (lo & 0xfff)) >>> 2] = v;
      return;
    }
    this.storeSlow(lo, hi, 4, v, 0);
  }
  st64(lo: number, hi: number, vlo: number, vhi: number): void {
    const t = this.tlbW;
    const i = (lo >>> 12) & TLB_MASK;
    if (t.tag[i << 1] === (lo & -4089) && t.tag[(i << 1) | 1] === hi) {
      const a = t.blk[i].i32;
      const o = (t.off[i] + (lo & 0xfff)) >>> 2;
      a[o] = vlo;
      a[o + 1] = vhi;
      return;
    }
    this.storeSlow(lo, hi, 8, vlo, vhi);
  }

  /** Fill the TLB `t` for the page of (lo, hi) if the physical page is plain RAM. */
  private fill(t: Tlb, lo: number, hi: number, pa: number, acc: number): FlatRange | null {
    const fr = this.as.lookup(pa);
    if (fr === null) return null;
    if (!this.tCacheable) return fr;
    const page = this.tPage;
    if (page < fr.start || page + 4096 > fr.end) return fr;
    const blk = acc === ACC_W ? (fr.readonly || fr.mr.kind === 'romd' ? null : fr.mr.ramBlock) : fr.ramBlock;
    if (blk === null) return fr;
    const off = page - fr.start + fr.offset;
    if (acc === ACC_W && blk.codePages[off >>> 12]) return fr;
    const i = (lo >>> 12) & TLB_MASK;
    t.tag[i << 1] = lo & -4096;
    t.tag[(i << 1) | 1] = hi;
    t.off[i] = off;
    t.blk[i] = blk;
    if (blk.arenaAddr >= 0 && acc !== ACC_X) {
      t.wtag[i << 1] = lo & -4096;
      t.wtag[(i << 1) | 1] = hi;
      t.host[i] = blk.arenaAddr + off;
    } else {
      t.wtag[i << 1] = TLB_EMPTY;
    }
    if (acc === ACC_X) {
      t.code[i] = codePageFor(blk, off);
      t.jit[i] = jitPageFor(blk, off);
    }
    return fr;
  }

  /** Load through translation and the address space; value unsigned (size 8: low word, `rhi` high). */
  loadSlow(lo: number, hi: number, size: number): number {
    if (lo & (size - 1) && (lo & 0xfff) + size > 4096) return this.loadBytes(lo, hi, size);
    const pa = this.translate(lo, hi, ACC_R, size);
    if (pa < 0) return 0;
    const fr = this.fill(this.tlbR, lo, hi, pa, ACC_R);
    const as = this.as;
    const v = as.read(pa, size);
    if (fr === null || as.result !== MEMTX_OK) {
      this.raise(EXCP_LOAD_ACCESS_FAULT, lo, hi);
      return 0;
    }
    this.rhi = as.hi | 0;
    return v;
  }

  private loadBytes(lo: number, hi: number, size: number): number {
    let vlo = 0;
    let vhi = 0;
    for (let k = 0; k < size; k++) {
      const alo = (lo + k) | 0;
      const ahi = alo >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
      const b = this.loadSlow(alo, ahi, 1);
      if (this.fault) return 0;
      if (k < 4) vlo |= b << (8 * k);
      else vhi |= b << (8 * (k - 4));
    }
    this.rhi = vhi;
    return vlo >>> 0;
  }

  storeSlow(lo: number, hi: number, size: number, vlo: number, vhi: number): void {
    if (lo & (size - 1) && (lo & 0xfff) + size > 4096) {
      for (let k = 0; k < size; k++) {
        const alo = (lo + k) | 0;
        const ahi = alo >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
        this.storeSlow(alo, ahi, 1, k < 4 ? vlo >>> (8 * k) : vhi >>> (8 * (k - 4)), 0);
        if (this.fault) return;
      }
      return;
    }
    const pa = this.translate(lo, hi, ACC_W, size);
    if (pa < 0) return;
    const fr = this.fill(this.tlbW, lo, hi, pa, ACC_W);
    if (
      fr === null ||
      this.as.write(pa, size, size === 1 ? vlo & 0xff : size === 2 ? vlo & 0xffff : vlo >>> 0, vhi >>> 0) !==
        MEMTX_OK
    ) {
      this.raise(EXCP_STORE_AMO_ACCESS_FAULT, lo, hi);
      return;
    }
    // A store can hit another hart's LR reservation.
    if (allCpus.length > 1)
      for (const c of allCpus)
        if (c !== this && c.resAddr >= 0 && Math.abs(c.resAddr - pa) < 8) c.resAddr = -1;
  }

  /** RamBlock and byte offset of the last successful `amoAddr`. */
  amoBlk: RamBlock = DUMMY_BLOCK();
  amoOff = 0;

  /**
   * Resolve an AMO/LR/SC address (write permission for AMO/SC, read for LR) to RAM: sets `amoBlk`
   * and `amoOff` and returns the physical address, or -1 after raising the fault.
   */
  amoAddr(lo: number, hi: number, size: number, write: boolean): number {
    if (lo & (size - 1)) {
      this.raise(write ? 6 : 4, lo, hi); // AMOs must be naturally aligned
      return -1;
    }
    const pa = this.translate(lo, hi, write ? ACC_W : ACC_R, size);
    if (pa < 0) return -1;
    const fr = this.as.lookup(pa);
    if (fr === null || fr.mr.ramBlock === null || fr.mr.kind === 'romd' || (write && fr.readonly)) {
      this.raise(write ? EXCP_STORE_AMO_ACCESS_FAULT : EXCP_LOAD_ACCESS_FAULT, lo, hi);
      return -1;
    }
    this.amoBlk = fr.mr.ramBlock;
    this.amoOff = pa - fr.start + fr.offset;
    if (write) {
      if (this.amoBlk.codePages[this.amoOff >>> 12]) this.amoBlk.notifyWrite(this.amoOff, size);
      if (allCpus.length > 1)
        for (const c of allCpus)
          if (c !== this && c.resAddr >= 0 && Math.abs(c.resAddr - pa) < 8) c.resAddr = -1;
    }
    return pa;
  }

  // ------------------------------------------------------------------------------------------
  // Instruction fetch

  /** Translate the fetch page of pc; returns the decoded page (or null for non-RAM / faults). */
  fetchPage(lo: number, hi: number): Int32Array | null {
    const t = this.tlbX;
    const i = (lo >>> 12) & TLB_MASK;
    if (t.tag[i << 1] === (lo & -4096) && t.tag[(i << 1) | 1] === hi) return t.code[i];
    const pa = this.translate(lo, hi, ACC_X, 2);
    if (pa < 0) return null;
    const fr = this.fill(t, lo, hi, pa, ACC_X);
    if (fr === null) {
      this.raise(EXCP_INST_ACCESS_FAULT, lo, hi);
      return null;
    }
    if (t.tag[i << 1] === (lo & -4096) && t.tag[(i << 1) | 1] === hi) return t.code[i];
    return null; // fetchable but not cacheable (MMIO or PMP-split page)
  }

  /** Fetch a 16-bit parcel without caching (slow path); -1 after a fault. */
  fetch16(lo: number, hi: number): number {
    const pa = this.translate(lo, hi, ACC_X, 2);
    if (pa < 0) return -1;
    const v = this.as.read(pa, 2);
    if (this.as.result !== MEMTX_OK) {
      this.raise(EXCP_INST_ACCESS_FAULT, lo, hi);
      return -1;
    }
    return v;
  }

  /** Decode the instruction at pc into `page` (or execute uncached when it cannot be cached). */
  decodeAt(page: Int32Array, slot: number, lo: number, _hi: number): number {
    const t = this.tlbX;
    const i = (lo >>> 12) & TLB_MASK;
    const blk = t.blk[i];
    const off = t.off[i] + (lo & 0xfff);
    if (!blk.codePages[off >>> 12]) codePageFor(blk, off); // re-arm invalidation after a code write
    const lowHalf = blk.u16[off >>> 1];
    if ((lowHalf & 3) === 3 && (lo & 0xfff) === 0xffe) {
      page[slot] = OP_CROSS;
      return OP_CROSS;
    }
    const raw = (lowHalf & 3) === 3 ? blk.u16[off >>> 1] | (blk.u16[(off >>> 1) + 1] << 16) : lowHalf;
    decodeInsn(raw, page, slot);
    return page[slot];
  }

  /** Execute one instruction fetched without the decode cache (MMIO/ROM device, page-crossing). */
  execUncached(lo: number, hi: number): void {
    const lowHalf = this.fetch16(lo, hi);
    if (lowHalf < 0) return;
    let raw = lowHalf;
    if ((lowHalf & 3) === 3) {
      const nlo = (lo + 2) | 0;
      const nhi = nlo >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
      const upper = this.fetch16(nlo, nhi);
      if (upper < 0) return;
      raw = lowHalf | (upper << 16);
    }
    decodeInsn(raw, SCRATCH_SLOT, 0);
    const w = SCRATCH_SLOT[0];
    const len = w & (1 << 29) ? 2 : 4;
    const nlo = (lo + len) | 0;
    this.npcLo = nlo;
    this.npcHi = nlo >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
    HANDLERS[w & 1023](
      this,
      (w >>> 10) & 127,
      (w >>> 17) & 63,
      (w >>> 23) & 63,
      SCRATCH_SLOT[1],
      SCRATCH_SLOT[2],
    );
  }

  // ------------------------------------------------------------------------------------------
  // The interpreter loop

  /**
   * Execute up to `budget` instructions; returns how many ran. Stops early on WFI or `exitReq`.
   *
   * Dispatch: at each block start (after a control transfer, an event, or a compiled block) run the
   * compiled block if there is one and it fits in the remaining budget; otherwise count the start
   * and compile it once it is hot (jit.ts). Everything else is interpreted one instruction at a
   * time from the decode cache, which is also what runs cold code, MMIO-fetched code and `step()`.
   */
  run(budget: number): number {
    if (this.wfi) {
      if (!this.wakeable()) return 0;
      this.wfi = false;
    }
    this.attn = 1; // poll timers (stimecmp) and interrupts once per slice
    let n = 0;
    let curLo = 1;
    let curHi = 0;
    let page: Int32Array = EMPTY_CODE;
    let jp: JitPage = EMPTY_JIT;
    /**
     * The next instruction starts a block (follows a control transfer, an event or a block). Not at
     * the start of a slice: the previous one may have stopped mid-block, and counting that pc would
     * compile regions entered at arbitrary points.
     */
    let start = false;
    const handlers = HANDLERS;
    const x = this.x;
    const jit = this.jit;
    while (n < budget) {
      // One field test covers interrupts, WFI, exit requests, exceptions and translation changes.
      if (this.attn !== 0) {
        // A trap (exception just raised, or an interrupt taken now) enters a new block.
        const before = this.npcLo;
        if (this.fault) start = true;
        this.fault = false;
        if (this.wfi || this.service()) break;
        if (this.npcLo !== before) start = true;
        curLo = 1; // priv/satp/TLB may have changed: translate the fetch page again
      }
      const lo = this.npcLo;
      const hi = this.npcHi;
      this.pcLo = lo;
      if ((lo & -4096) !== curLo || hi !== curHi) {
        this.pcHi = hi;
        const p = this.fetchPage(lo, hi);
        if (p === null) {
          n++;
          if (!this.fault) {
            this.sliceN = n;
            this.execUncached(lo, hi);
          }
          curLo = 1;
          start = true;
          continue;
        }
        page = p;
        jp = this.tlbX.jit[(lo >>> 12) & TLB_MASK];
        curLo = lo & -4096;
        curHi = hi;
      }
      const s = (lo & 0xfff) >>> 1;
      if (jit) {
        // Any pc with translated code is entered there, also one reached without a control transfer
        // (after an exit for an event at a block boundary, see SPLITS_BLOCK); only control-transfer
        // targets are counted towards translation.
        const fn = jp.fns[s];
        if (fn !== null) {
          if (jp.lens[s] <= budget - n) {
            const k = fn(this, x, lo, hi, n, budget - n);
            n += k;
            jitStats.executed += k;
            // Exits for events (attn without a trap) may stop mid-block.
            start = this.attn === 0 || this.fault;
            continue;
          }
        } else if (start && jp !== EMPTY_JIT) {
          const cnt = jp.counts[s] + 1;
          if (cnt < NEVER) {
            jp.counts[s] = cnt;
            if (cnt >= jp.threshold()) {
              this.compileBlock(jp, page, s, lo, hi);
              continue;
            }
          }
        }
      }
      n++;
      const slot = s * 3;
      let w = page[slot];
      if (w === 0) w = this.decodeAt(page, slot, lo, hi);
      const nlo = (lo + (w & (1 << 29) ? 2 : 4)) | 0;
      this.npcLo = nlo;
      if (nlo >>> 0 < lo >>> 0) this.npcHi = (hi + 1) | 0;
      this.sliceN = n;
      // After a control transfer, or when the next instruction is on another page (an instruction
      // straddling the page end cannot be translated, and the code after it should be).
      start = ENDS_BLOCK[w & 1023] === 1 || ((nlo ^ lo) & -4096) !== 0;
      handlers[w & 1023](
        this,
        (w >>> 10) & 127,
        (w >>> 17) & 63,
        (w >>> 23) & 63,
        page[slot + 1],
        page[slot + 2],
      );
    }
    this.instret += n;
    this.sliceN = 0;
    if (wasmQueue.length !== 0 && !wasmFlushDeferred) flushWasmQueue();
    return n;
  }

  /** Translate the region entered at halfword slot `s` of the current fetch page into `jp`. */
  private compileBlock(jp: JitPage, page: Int32Array, s: number, lo: number, hi: number): void {
    const base = lo & -4096;
    if (jitConfig.backend === 'wasm' && this.stAddr >= 0 && this.tlbR.waddr >= 0) {
      this.compileWasm(jp, page, s, base, hi);
      return;
    }
    const r = translate(
      page,
      s << 1,
      (q) => this.decodeAt(page, q * 3, base | (q << 1), hi),
      // Only blocks that have run (as block starts in the interpreter) and have no code yet.
      (off) => jp.fns[off >> 1] === null && jp.counts[off >> 1] > 0 && jp.counts[off >> 1] !== NEVER,
    );
    if (r === null) {
      jp.counts[s] = NEVER; // nothing compilable starts here
      return;
    }
    if (jitStats.live >= jitConfig.maxBlocks) flushJitCache();
    // The region can be entered at any of its block starts (e.g. the return point of a call).
    for (const [off, len] of r.starts) {
      const q = off >>> 1;
      if (jp.fns[q] === null) jp.add(q, r.fn, len);
    }
    jitStats.compiled++;
    jitStats.compiledInsns += r.insns;
  }

  /** Translate the region at slot `s` to wasm and queue it for the next batch compile. */
  private compileWasm(jp: JitPage, page: Int32Array, s: number, base: number, hi: number): void {
    const r = genRegionWasm(
      page,
      s << 1,
      (q) => this.decodeAt(page, q * 3, base | (q << 1), hi),
      (off) => jp.fns[off >> 1] === null && jp.counts[off >> 1] > 0 && jp.counts[off >> 1] < PENDING,
    );
    if (r === null) {
      jp.counts[s] = NEVER;
      return;
    }
    for (const e of r.entries) if (jp.fns[e.off >>> 1] === null) jp.counts[e.off >>> 1] = PENDING;
    if (wasmQueue.length === 0) wasmQueueSince = performance.now();
    wasmQueue.push({ jp, epoch: jp.epoch, region: r });
    if (!wasmFlushDeferred || wasmQueue.length >= WASM_BATCH_MAX) flushWasmQueue();
  }

  /** Execute exactly one instruction (monitor `step`, tests). */
  step(): number {
    return this.run(1);
  }

  /** Instructions retired including the current slice (for cycle/instret CSR reads). */
  retired(): number {
    return this.instret + this.sliceN;
  }

  /** FP rounding mode for an instruction's rm field; -1 if invalid (illegal instruction). */
  roundingMode(raw: number): number {
    let rm = (raw >>> 12) & 7;
    if (rm === 7) rm = (this.csr[CSR_FCSR * 2] >>> 5) & 7;
    return rm > 4 ? -1 : rm;
  }
}

const SCRATCH_SLOT = new Int32Array(3);

/** `JitPage.counts` value of a block start whose region waits in `wasmQueue`. */
const PENDING = NEVER - 1;
/** Regions translated but not yet compiled, with the page epoch they were translated at. */
const wasmQueue: Array<{ jp: JitPage; epoch: number; region: PendingRegion }> = [];
/** Regions per module at most (a batch is compiled early when it reaches this). */
const WASM_BATCH_MAX = 64;
/** While set (by the run loop), queued regions are compiled once per time slice, not per `run`. */
let wasmFlushDeferred = false;

let wasmQueueSince = 0;
/** Host milliseconds a queued region may wait for company before its batch is compiled. */
const WASM_BATCH_WAIT_MS = 12;

export function deferWasmFlush(on: boolean): void {
  wasmFlushDeferred = on;
}

/** The run loop's end-of-slice call: compile the queue once it is big or old enough. */
export function flushWasmQueueIfDue(): void {
  if (
    wasmQueue.length >= 16 ||
    (wasmQueue.length !== 0 && performance.now() - wasmQueueSince >= WASM_BATCH_WAIT_MS)
  )
    flushWasmQueue();
}

/**
 * Compile every queued region as one module and install its entry points, except in pages whose
 * code changed since (their epoch moved on: the translation may be stale).
 */
export function flushWasmQueue(): void {
  if (wasmQueue.length === 0) return;
  const batch = wasmQueue.splice(0);
  const fns = compileRegions(batch.map((b) => b.region));
  batch.forEach(({ jp, epoch, region }, k) => {
    if (jp.epoch !== epoch) return;
    const fn = fns[k];
    for (const { off, blk, len } of region.entries) {
      const q = off >>> 1;
      if (jp.fns[q] !== null) continue;
      jp.add(
        q,
        (c, _x, lo, hi, n, lim) => {
          enterWasm(c, lo, hi, n);
          const r = fn(c.stAddr, lo, hi, lim, blk);
          if (r > 0) {
            c.npcLo = c.stWords[ST_NPC >> 2];
            c.npcHi = c.stWords[(ST_NPC >> 2) + 1];
            return r;
          }
          return -r;
        },
        len,
      );
    }
    jitStats.compiled++;
    jitStats.compiledInsns += region.insns;
  });
  if (jitStats.live >= jitConfig.maxBlocks) flushJitCache();
}

/** Interrupt priority order (QEMU/spec): MEI, MSI, MTI, SEI, SSI, STI. */
const IRQ_PRIORITY = [IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER];

export { ramBlocks, PRV_M, PRV_S, PRV_U };
