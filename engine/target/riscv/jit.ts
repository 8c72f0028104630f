/**
 * Translation-block JIT: guest basic blocks compiled to JavaScript functions (V8 then compiles
 * them to machine code), the main execution engine next to the interpreter in cpu.ts.
 *
 * A block is a straight run of instructions in one guest page, ending at a branch/jump, a
 * privileged control-flow instruction (xret, ecall, ebreak, wfi, sfence.vma), an illegal
 * instruction, the page end, an instruction that straddles the page end, or MAX_BLOCK_INSNS.
 *
 * Generated code:
 * - Guest registers live in JS locals (`l5`/`h5` = low/high int32 of x5) for the whole block: loaded
 *   in the prologue, written back to `x` at every exit and before every call-out to an instruction
 *   handler. 64-bit arithmetic works on int32 halves, as in int64.ts: no BigInt, no allocation.
 * - Position independent: the block receives the virtual pc of its first instruction (lo, hi) and
 *   computes pcs from it, because blocks are cached per *physical* page, which may be mapped at
 *   several virtual addresses (a blocks never leaves its page, so pc + offset has no carry).
 * - Loads and stores test the software TLB inline (same tags as the ld/st fast paths in cpu.ts) and
 *   call the CPU's slow path on a miss. Before any call that may fault the block stores pc and
 *   `sliceN` (counters read mid-block) exactly as the interpreter does; after it, `attn` (set by
 *   traps, interrupt line changes from MMIO, exit requests, code invalidation) ends the block, so a
 *   fault or an event in mid-block leaves the architectural state exactly as the interpreter would.
 *   Instructions without an inline template call their interpreter handler (same operands).
 * - A block whose final branch/jump targets its own start becomes a JS loop that keeps running while
 *   the instruction budget allows a whole further iteration (no exit through the dispatcher).
 * - Block functions return the number of instructions executed (a faulting instruction counts, as
 *   in the interpreter), set `npcLo/npcHi` to the next pc (or the trap set it), and never run more
 *   than the `lim` the dispatcher passes, so budgets (single-step, slices) are exact.
 *
 * Safety: the generated source contains only this file's fixed text and numbers derived from guest
 * instruction words (register indices, immediates, offsets), each passed through `num()` which
 * rejects anything but an integer, never a string taken from the guest, so guest memory cannot inject
 * code into `new Function`.
 */
import type { RiscvCpu } from './cpu.js';
import { HANDLERS, insnOfOp, OP_CROSS, OP_ILLEGAL, OP_UNDECODED } from './decode.js';
import type { Handler } from './insn-def.js';
import * as I64 from './int64.js';
import { TLB_MASK } from './tlb-geometry.js';

/** A compiled block: see the file comment for the protocol. */
export type BlockFn = (c: RiscvCpu, x: Int32Array, lo: number, hi: number, n: number, lim: number) => number;

export const SLOTS_PER_PAGE = 2048;
export const MAX_BLOCK_INSNS = 96;
export const MAX_REGION_INSNS = 256;
/** `JitPage.counts` value meaning "do not try to compile here again". */
export const NEVER = 65535;

/** Tunables and counters (process-wide; blocks are shared by all harts). */
export const jitConfig = {
  /**
   * Default for new harts (`RiscvCpu.jit`). On with the wasm back end: Debian's boot to the shell
   * runs about 2x faster than in the interpreter. (The JS back end is slower than the interpreter
   * on the kernel's warm code: V8 runs its functions in the bytecode interpreter for too long.)
   */
  enabled: true,
  /**
   * Back end: 'wasm' (wasm-jit.ts; machine code from the first call) or 'js' (generated JavaScript
   * functions, below).
   */
  backend: 'wasm' as 'wasm' | 'js',
  /** Executions of a block start in the interpreter before it is compiled (max 60000). */
  threshold: 200,
  /** Live compiled blocks before the whole cache is dropped (QEMU's tb_flush when full). */
  maxBlocks: 32768,
};
export const jitStats = {
  /** Blocks compiled since start. */
  compiled: 0,
  /** Guest instructions in compiled blocks (static count). */
  compiledInsns: 0,
  /** Pages whose blocks were dropped because their code was written. */
  invalidations: 0,
  /** Whole-cache flushes (cache full). */
  flushes: 0,
  /** Live blocks now. */
  live: 0,
  /** Guest instructions executed in translated code (the rest ran in the interpreter). */
  executed: 0,
};

const NO_FNS: Array<BlockFn | null> = new Array<BlockFn | null>(SLOTS_PER_PAGE).fill(null);
const NO_LENS = new Uint8Array(SLOTS_PER_PAGE);

/** Compiled blocks of one physical code page, indexed by halfword slot (shared by all harts). */
export class JitPage {
  /** Block function per slot; a shared all-null array until the page gets its first block. */
  fns: Array<BlockFn | null> = NO_FNS;
  /** Instructions in the block at each slot (for the dispatcher's budget check); lazy like `fns`. */
  lens: Uint8Array = NO_LENS;
  /** Interpreted executions of each block start (NEVER: not compilable). */
  readonly counts = new Uint16Array(SLOTS_PER_PAGE);
  /** Bumped by `clear()`: translations made before are stale. */
  epoch = 0;
  /** How often this page's code was overwritten (raises its compile threshold). */
  writes = 0;
  live = 0;

  /** Compile threshold for this page: pages whose code keeps changing wait longer. */
  threshold(): number {
    return Math.min(60000, jitConfig.threshold * (1 + this.writes * 2));
  }

  /** Enter a compiled block at `slot` (the dispatcher checks `fns[slot]` is null first). */
  add(slot: number, fn: BlockFn, len: number): void {
    if (this.fns === NO_FNS) {
      this.fns = new Array<BlockFn | null>(SLOTS_PER_PAGE).fill(null);
      this.lens = new Uint8Array(SLOTS_PER_PAGE);
    }
    this.fns[slot] = fn;
    this.lens[slot] = len;
    this.live++;
    jitStats.live++;
  }

  /** Drop every block (code written, or cache flush). */
  clear(): void {
    this.epoch++;
    if (this.live !== 0) {
      this.fns = NO_FNS;
      this.lens = NO_LENS;
      jitStats.live -= this.live;
      this.live = 0;
    }
    this.counts.fill(0);
  }
}
/** An empty page for TLB entries that have none (never holds blocks). */
export const EMPTY_JIT = new JitPage();

const allPages: JitPage[] = [];

/** A new page registered for cache-wide flushes. */
export function newJitPage(): JitPage {
  const p = new JitPage();
  allPages.push(p);
  return p;
}

/** Drop every compiled block everywhere (cache full, or on request). */
export function flushJitCache(): void {
  for (const p of allPages) p.clear();
  jitStats.flushes++;
}

/** Ops whose execution ends a block (control flow or the slice). */
export const ENDS_BLOCK = new Uint8Array(1024);
/** Ops that may change pc: the interpreter treats the following instruction as a block start. */
{
  const names = new Set(['jal', 'jalr', 'beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu']);
  const sys = new Set(['mret', 'sret', 'ecall', 'ebreak', 'wfi', 'sfence.vma']);
  for (let op = 0; op < HANDLERS.length; op++) {
    const d = insnOfOp(op);
    if (d === null || names.has(d.name) || sys.has(d.name)) ENDS_BLOCK[op] = 1;
  }
}

/**
 * Ops after which a translated block ends although pc moves on: CSR writes are where translated
 * code most often exits for an event (a write to sstatus, sie, satp... sets `attn`), and the next
 * instruction being a block start means the dispatcher re-enters translated code there instead of
 * interpreting the rest of the block.
 */
export const SPLITS_BLOCK = new Uint8Array(1024);
{
  const names = new Set(['csrrw', 'csrrs', 'csrrc', 'csrrwi', 'csrrsi', 'csrrci']);
  for (let op = 0; op < HANDLERS.length; op++) {
    const d = insnOfOp(op);
    if (d !== null && names.has(d.name)) SPLITS_BLOCK[op] = 1;
  }
}

/** Reject anything but an integer before it goes into generated source. */
function num(v: number): string {
  if (!Number.isInteger(v)) throw new Error(`jit: non-integer constant ${String(v)}`);
  return String(v);
}

export interface Insn {
  op: number;
  name: string;
  /** Doubled register indices (rd = 64 for x0 sinks). */
  d: number;
  a: number;
  b: number;
  imm: number;
  raw: number;
  /** Index in the block and byte offset from the block start. */
  k: number;
  off: number;
  len: number;
  /** x-register kinds from the table (regs string) */
  regs: string;
}

type Emitter = (g: RegionGen, i: Insn) => string;

/** Source builder for one region (see `translate`). */
class RegionGen {
  /** Guest registers referenced (read or written) and written, by number 1..31. */
  readonly used = new Set<number>();
  readonly written = new Set<number>();
  readonly handlers: Handler[] = [];
  usesLoadTlb = false;
  usesStoreTlb = false;
  /** Block starts (page offsets) in this region -> instruction count of the block. */
  readonly starts = new Map<number, number>();
  /** The block being generated: its length and the start of the block laid out after it. */
  curLen = 0;
  layoutNext = -1;

  // ---- registers ----
  lo(i: number): string {
    if (i === 0 || i === 64) return '0';
    this.used.add(i >> 1);
    return `l${i >> 1}`;
  }
  hi(i: number): string {
    if (i === 0 || i === 64) return '0';
    this.used.add(i >> 1);
    return `h${i >> 1}`;
  }
  /** rd = (loExpr, hiExpr); both evaluated before either local changes. */
  set(d: number, loExpr: string, hiExpr: string): string {
    if (d === 64 || d === 0) return '';
    const r = d >> 1;
    this.used.add(r);
    this.written.add(r);
    return `{const q0=${loExpr},q1=${hiExpr};l${r}=q0;h${r}=q1;}`;
  }
  /** rd = sign-extended 32-bit expr */
  setW(d: number, expr: string): string {
    if (d === 64 || d === 0) return '';
    const r = d >> 1;
    this.used.add(r);
    this.written.add(r);
    return `{const q0=${expr};l${r}=q0;h${r}=q0>>31;}`;
  }

  // ---- pcs, counts, exits (offsets are from the start of the guest page `base`) ----
  pcLo(off: number): string {
    return `(base|${num(off)})`;
  }
  /** (lo, hi) expressions of base + c (any 64-bit carry handled). */
  pcRel(c: number): [string, string] {
    if (c >= 0 && c < 4096) return [this.pcLo(c), 'hi'];
    return [`((base+${num(c)})|0)`, `((hi+${num(c >> 31)}+((((base+${num(c)})|0)>>>0)<(base>>>0)?1:0))|0)`];
  }
  /** State the slow paths and handlers read: pc of the instruction and the slice count. */
  sync(i: Insn): string {
    return `c.pcLo=${this.pcLo(i.off)};c.sliceN=n+m+${num(i.k + 1)};`;
  }
  /** Exit after instruction k of the current block with the given next pc. */
  exitTo(k: number, pc: [string, string]): string {
    return `c.npcLo=${pc[0]};c.npcHi=${pc[1]};ret=m+${num(k + 1)};break R;`;
  }
  /** Exit after instruction k when npc is already set (trap, handler, or synced). */
  exitHere(k: number): string {
    return `ret=m+${num(k + 1)};break R;`;
  }
  next(i: Insn): [string, string] {
    return this.pcRel(i.off + i.len);
  }
  /**
   * End of the current block, continuing at page offset `t`: jump to that block of the region if
   * the budget allows a whole further block (falling into the next case when it is laid out right
   * after and `tail` says this is the end of the case), else exit to it.
   */
  goto(t: number, tail: boolean): string {
    const len = this.starts.get(t);
    if (len === undefined) return this.exitTo(this.curLen - 1, this.pcRel(t));
    return (
      `m+=${num(this.curLen)};if(m+${num(len)}>lim){c.npcLo=${this.pcLo(t)};c.npcHi=hi;ret=m;break R;}` +
      (tail && t === this.layoutNext ? '' : `pc=${num(t)};continue R;`)
    );
  }
  callHandler(fn: Handler): string {
    let idx = this.handlers.indexOf(fn);
    if (idx < 0) {
      idx = this.handlers.length;
      this.handlers.push(fn);
    }
    return `H${idx}`;
  }
}

// ---- templates ---------------------------------------------------------------------------

/** Effective address x[a] + imm into `al`/`ah`. */
function eaCode(g: RegionGen, a: number, imm: number): string {
  const A = g.lo(a);
  const AH = g.hi(a);
  if (imm === 0) return `const al=${A},ah=${AH};`;
  return `const al=(${A}+${num(imm)})|0,ah=(${AH}+${num(imm >> 31)}+((al>>>0)<(${A}>>>0)?1:0))|0;`;
}

const TAG_MASK: Record<number, number> = { 1: -4096, 2: -4095, 4: -4093, 8: -4089 };

function load(size: number, signed: boolean): Emitter {
  return (g, i) => {
    g.usesLoadTlb = true;
    const d = i.d;
    let fast: string;
    let slowVal: string;
    if (size === 8) {
      fast = `const mm=rb[e].i32,o=(ro[e]+(al&4095))>>>2;vl=mm[o];vh=mm[o+1];`;
      slowVal = `vl=c.loadSlow(al,ah,8)|0;vh=c.rhi;`;
    } else {
      const view =
        size === 1
          ? `rb[e].u8[ro[e]+(al&4095)]`
          : size === 2
            ? `rb[e].${signed ? 'i16' : 'u16'}[(ro[e]+(al&4095))>>>1]`
            : `rb[e].i32[(ro[e]+(al&4095))>>>2]`;
      fast = size === 1 && signed ? `vl=(${view}<<24)>>24;` : `vl=${view};`;
      slowVal = `vl=c.loadSlow(al,ah,${size})|0;`;
      if (size === 1 && signed) slowVal += 'vl=(vl<<24)>>24;';
      if (size === 2 && signed) slowVal += 'vl=(vl<<16)>>16;';
    }
    const wr = size === 8 ? g.set(d, 'vl', 'vh') : signed ? g.setW(d, 'vl') : g.set(d, 'vl', '0');
    return (
      `{${eaCode(g, i.a, i.imm)}const e=(al>>>12)&${TLB_MASK};let vl=0${size === 8 ? ',vh=0' : ''};` +
      `if(rt[e<<1]===(al&${num(TAG_MASK[size])})&&rt[(e<<1)|1]===ah){${fast}${wr}}` +
      `else{${g.sync(i)}${slowVal}if(c.fault){${g.exitHere(i.k)}}${wr}if(c.attn!==0){${g.exitTo(i.k, g.next(i))}}}}`
    );
  };
}

function store(size: number): Emitter {
  return (g, i) => {
    g.usesStoreTlb = true;
    const V = g.lo(i.b);
    const VH = g.hi(i.b);
    const fast =
      size === 1
        ? `wb[e].u8[wo[e]+(al&4095)]=${V};`
        : size === 2
          ? `wb[e].u16[(wo[e]+(al&4095))>>>1]=${V};`
          : size === 4
            ? `wb[e].i32[(wo[e]+(al&4095))>>>2]=${V};`
            : `const mm=wb[e].i32,o=(wo[e]+(al&4095))>>>2;mm[o]=${V};mm[o+1]=${VH};`;
    return (
      `{${eaCode(g, i.a, i.imm)}const e=(al>>>12)&${TLB_MASK};` +
      `if(wt[e<<1]===(al&${num(TAG_MASK[size])})&&wt[(e<<1)|1]===ah){${fast}}` +
      `else{${g.sync(i)}c.storeSlow(al,ah,${size},${V},${size === 8 ? VH : '0'});if(c.attn!==0){if(c.fault){${g.exitHere(i.k)}}${g.exitTo(i.k, g.next(i))}}}}`
    );
  };
}

/** Conditional branch; `cond` is built from the operand expressions. */
function branch(cond: (al: string, ah: string, bl: string, bh: string) => string): Emitter {
  return (g, i) => {
    const c = cond(g.lo(i.a), g.hi(i.a), g.lo(i.b), g.hi(i.b));
    return `if(${c}){${g.goto(i.off + i.imm, false)}}` + g.goto(i.off + i.len, true);
  };
}

const ltS = (al: string, ah: string, bl: string, bh: string): string =>
  `(${ah}<${bh}||(${ah}===${bh}&&(${al}>>>0)<(${bl}>>>0)))`;
const ltU = (al: string, ah: string, bl: string, bh: string): string =>
  `((${ah}>>>0)<(${bh}>>>0)||(${ah}===${bh}&&(${al}>>>0)<(${bl}>>>0)))`;

/** Pure register op on (lo, hi) of both sources: skipped entirely for rd = x0. */
function rr(f: (g: RegionGen, al: string, ah: string, bl: string, bh: string, d: number) => string): Emitter {
  return (g, i) => (i.d === 64 ? '' : f(g, g.lo(i.a), g.hi(i.a), g.lo(i.b), g.hi(i.b), i.d));
}
function ri(f: (g: RegionGen, al: string, ah: string, imm: number, d: number) => string): Emitter {
  return (g, i) => (i.d === 64 ? '' : f(g, g.lo(i.a), g.hi(i.a), i.imm, i.d));
}

/** 64-bit shifts by a constant. */
function sllK(g: RegionGen, d: number, al: string, ah: string, s: number): string {
  if (s === 0) return g.set(d, al, ah);
  if (s < 32) return g.set(d, `${al}<<${num(s)}`, `(${ah}<<${num(s)})|(${al}>>>${num(32 - s)})`);
  return g.set(d, '0', `${al}<<${num(s - 32)}`);
}
function srlK(g: RegionGen, d: number, al: string, ah: string, s: number): string {
  if (s === 0) return g.set(d, al, ah);
  if (s < 32) return g.set(d, `(${al}>>>${num(s)})|(${ah}<<${num(32 - s)})`, `${ah}>>>${num(s)}`);
  return g.set(d, `${ah}>>>${num(s - 32)}`, '0');
}
function sraK(g: RegionGen, d: number, al: string, ah: string, s: number): string {
  if (s === 0) return g.set(d, al, ah);
  if (s < 32) return g.set(d, `(${al}>>>${num(s)})|(${ah}<<${num(32 - s)})`, `${ah}>>${num(s)}`);
  return g.set(d, `${ah}>>${num(s - 32)}`, `${ah}>>31`);
}
/** 64-bit shift by a register amount (s = b & 63), into temporaries then rd. */
function shiftVar(kind: 'l' | 'r' | 'a'): Emitter {
  return rr((g, al, ah, bl, _bh, d) => {
    const body =
      kind === 'l'
        ? `if(s===0){tl=${al};th=${ah};}else if(s<32){th=(${ah}<<s)|(${al}>>>(32-s));tl=${al}<<s;}else{th=${al}<<(s-32);tl=0;}`
        : kind === 'r'
          ? `if(s===0){tl=${al};th=${ah};}else if(s<32){tl=(${al}>>>s)|(${ah}<<(32-s));th=${ah}>>>s;}else{tl=${ah}>>>(s-32);th=0;}`
          : `if(s===0){tl=${al};th=${ah};}else if(s<32){tl=(${al}>>>s)|(${ah}<<(32-s));th=${ah}>>s;}else{tl=${ah}>>(s-32);th=${ah}>>31;}`;
    return `{const s=${bl}&63;let tl=0,th=0;${body}${g.set(d, 'tl', 'th')}}`;
  });
}
/** Call an int64.ts (lo, hi) -> lo, r.hi helper. */
function helper(name: string): Emitter {
  return rr((g, al, ah, bl, bh, d) => g.set(d, `${name}(${al},${ah},${bl},${bh})`, 'R.hi'));
}

const EMIT: Record<string, Emitter> = {
  lui: (g, i) => g.setW(i.d, num(i.imm)),
  auipc: (g, i) => {
    const [l, h] = g.pcRel(i.off + i.imm);
    return g.set(i.d, l, h);
  },
  jal: (g, i) => {
    const [nl, nh] = g.next(i);
    return g.set(i.d, nl, nh) + g.goto(i.off + i.imm, true);
  },
  jalr: (g, i) => {
    // Indirect jump: stays in the region when it lands on one of its blocks (e.g. a return); the
    // switch's default case exits for other targets. Budget: any block fits in MAX_BLOCK_INSNS.
    const [nl, nh] = g.next(i);
    return (
      `{${eaCode(g, i.a, i.imm)}${g.set(i.d, nl, nh)}const t=al&-2;` +
      `if(ah===hi&&(t&-4096)===base){m+=${num(g.curLen)};` +
      `if(m+${num(MAX_BLOCK_INSNS)}<=lim){pc=t&4095;continue R;}c.npcLo=t;c.npcHi=ah;ret=m;break R;}` +
      `${g.exitTo(i.k, ['t', 'ah'])}}`
    );
  },
  beq: branch((al, ah, bl, bh) => `${al}===${bl}&&${ah}===${bh}`),
  bne: branch((al, ah, bl, bh) => `${al}!==${bl}||${ah}!==${bh}`),
  blt: branch(ltS),
  bge: branch((al, ah, bl, bh) => `!${ltS(al, ah, bl, bh)}`),
  bltu: branch(ltU),
  bgeu: branch((al, ah, bl, bh) => `!${ltU(al, ah, bl, bh)}`),
  lb: load(1, true),
  lh: load(2, true),
  lw: load(4, true),
  ld: load(8, true),
  lbu: load(1, false),
  lhu: load(2, false),
  lwu: load(4, false),
  sb: store(1),
  sh: store(2),
  sw: store(4),
  sd: store(8),
  addi: ri((g, al, ah, imm, d) =>
    imm === 0
      ? g.set(d, al, ah)
      : al === '0'
        ? g.set(d, num(imm), num(imm >> 31))
        : `{const tl=(${al}+${num(imm)})|0;${g.set(d, 'tl', `(${ah}+${num(imm >> 31)}+((tl>>>0)<(${al}>>>0)?1:0))|0`)}}`,
  ),
  slti: ri((g, al, ah, imm, d) => g.set(d, `${ltS(al, ah, num(imm), num(imm >> 31))}?1:0`, '0')),
  sltiu: ri((g, al, ah, imm, d) => g.set(d, `${ltU(al, ah, num(imm), num(imm >> 31))}?1:0`, '0')),
  xori: ri((g, al, ah, imm, d) => g.set(d, `${al}^${num(imm)}`, `${ah}^${num(imm >> 31)}`)),
  ori: ri((g, al, ah, imm, d) => g.set(d, `${al}|${num(imm)}`, `${ah}|${num(imm >> 31)}`)),
  andi: ri((g, al, ah, imm, d) => g.set(d, `${al}&${num(imm)}`, `${ah}&${num(imm >> 31)}`)),
  slli: ri((g, al, ah, s, d) => sllK(g, d, al, ah, s)),
  srli: ri((g, al, ah, s, d) => srlK(g, d, al, ah, s)),
  srai: ri((g, al, ah, s, d) => sraK(g, d, al, ah, s)),
  add: rr((g, al, ah, bl, bh, d) =>
    al === '0'
      ? g.set(d, bl, bh)
      : bl === '0'
        ? g.set(d, al, ah)
        : `{const tl=(${al}+${bl})|0;${g.set(d, 'tl', `(${ah}+${bh}+((tl>>>0)<(${al}>>>0)?1:0))|0`)}}`,
  ),
  sub: rr((g, al, ah, bl, bh, d) =>
    g.set(d, `(${al}-${bl})|0`, `(${ah}-${bh}-((${al}>>>0)<(${bl}>>>0)?1:0))|0`),
  ),
  sll: shiftVar('l'),
  srl: shiftVar('r'),
  sra: shiftVar('a'),
  slt: rr((g, al, ah, bl, bh, d) => g.set(d, `${ltS(al, ah, bl, bh)}?1:0`, '0')),
  sltu: rr((g, al, ah, bl, bh, d) => g.set(d, `${ltU(al, ah, bl, bh)}?1:0`, '0')),
  xor: rr((g, al, ah, bl, bh, d) => g.set(d, `${al}^${bl}`, `${ah}^${bh}`)),
  or: rr((g, al, ah, bl, bh, d) =>
    al === '0' ? g.set(d, bl, bh) : bl === '0' ? g.set(d, al, ah) : g.set(d, `${al}|${bl}`, `${ah}|${bh}`),
  ),
  and: rr((g, al, ah, bl, bh, d) => g.set(d, `${al}&${bl}`, `${ah}&${bh}`)),
  addiw: ri((g, al, _ah, imm, d) => g.setW(d, `(${al}+${num(imm)})|0`)),
  slliw: ri((g, al, _ah, s, d) => g.setW(d, `${al}<<${num(s)}`)),
  srliw: ri((g, al, _ah, s, d) => g.setW(d, `(${al}>>>${num(s)})|0`)),
  sraiw: ri((g, al, _ah, s, d) => g.setW(d, `${al}>>${num(s)}`)),
  addw: rr((g, al, _ah, bl, _bh, d) => g.setW(d, `(${al}+${bl})|0`)),
  subw: rr((g, al, _ah, bl, _bh, d) => g.setW(d, `(${al}-${bl})|0`)),
  sllw: rr((g, al, _ah, bl, _bh, d) => g.setW(d, `${al}<<(${bl}&31)`)),
  srlw: rr((g, al, _ah, bl, _bh, d) => g.setW(d, `(${al}>>>(${bl}&31))|0`)),
  sraw: rr((g, al, _ah, bl, _bh, d) => g.setW(d, `${al}>>(${bl}&31)`)),
  mul: helper('mul64'),
  mulh: helper('mulh64'),
  mulhsu: helper('mulhsu64'),
  mulhu: helper('mulhu64'),
  div: helper('div64'),
  divu: helper('divu64'),
  rem: helper('rem64'),
  remu: helper('remu64'),
  mulw: rr((g, al, _ah, bl, _bh, d) => g.setW(d, `Math.imul(${al},${bl})`)),
  divw: rr((g, al, _ah, bl, _bh, d) =>
    g.setW(d, `${bl}===0?-1:(${al}===-2147483648&&${bl}===-1)?${al}:(${al}/${bl})|0`),
  ),
  divuw: rr((g, al, _ah, bl, _bh, d) => g.setW(d, `${bl}===0?-1:((${al}>>>0)/(${bl}>>>0))|0`)),
  remw: rr((g, al, _ah, bl, _bh, d) => g.setW(d, `${bl}===0?${al}:${bl}===-1?0:(${al}%${bl})|0`)),
  remuw: rr((g, al, _ah, bl, _bh, d) => g.setW(d, `${bl}===0?${al}:((${al}>>>0)%(${bl}>>>0))|0`)),
  'add.uw': rr(
    (g, al, _ah, bl, bh, d) =>
      `{const tl=(${al}+${bl})|0;${g.set(d, 'tl', `(${bh}+((tl>>>0)<(${bl}>>>0)?1:0))|0`)}}`,
  ),
  sh1add: shadd(1, false),
  sh2add: shadd(2, false),
  sh3add: shadd(3, false),
  'sh1add.uw': shadd(1, true),
  'sh2add.uw': shadd(2, true),
  'sh3add.uw': shadd(3, true),
  'slli.uw': ri((g, al, _ah, s, d) => sllK(g, d, al, '0', s)),
  andn: rr((g, al, ah, bl, bh, d) => g.set(d, `${al}&~${bl}`, `${ah}&~${bh}`)),
  orn: rr((g, al, ah, bl, bh, d) => g.set(d, `${al}|~${bl}`, `${ah}|~${bh}`)),
  xnor: rr((g, al, ah, bl, bh, d) => g.set(d, `~(${al}^${bl})`, `~(${ah}^${bh})`)),
  'sext.b': ri((g, al, _ah, _imm, d) => g.setW(d, `(${al}<<24)>>24`)),
  'sext.h': ri((g, al, _ah, _imm, d) => g.setW(d, `(${al}<<16)>>16`)),
  'zext.h': ri((g, al, _ah, _imm, d) => g.set(d, `${al}&65535`, '0')),
  min: minmax((al, ah, bl, bh) => ltS(al, ah, bl, bh)),
  max: minmax((al, ah, bl, bh) => `!${ltS(al, ah, bl, bh)}`),
  minu: minmax((al, ah, bl, bh) => ltU(al, ah, bl, bh)),
  maxu: minmax((al, ah, bl, bh) => `!${ltU(al, ah, bl, bh)}`),
  fence: () => '',
  'fence.i': () => '',
};

function shadd(n: number, uw: boolean): Emitter {
  return rr((g, al, ah, bl, bh, d) => {
    const sh = uw ? `${al}>>>${num(32 - n)}` : `(${ah}<<${num(n)})|(${al}>>>${num(32 - n)})`;
    return `{const sl=${al}<<${num(n)},tl=(sl+${bl})|0;${g.set(d, 'tl', `((${sh})+${bh}+((tl>>>0)<(${bl}>>>0)?1:0))|0`)}}`;
  });
}
/** rd = cond(a, b) ? a : b */
function minmax(cond: (al: string, ah: string, bl: string, bh: string) => string): Emitter {
  return rr(
    (g, al, ah, bl, bh, d) =>
      `{const p=${cond(al, ah, bl, bh)};${g.set(d, `p?${al}:${bl}`, `p?${ah}:${bh}`)}}`,
  );
}

/**
 * Any other instruction: its interpreter handler, with state synced around the call. Afterwards
 * rd is reloaded from `x` before anything can exit (the exit stores every written local).
 */
function generic(g: RegionGen, i: Insn, ends: boolean): string {
  const h = g.callHandler(HANDLERS[i.op]);
  const [nl, nh] = g.next(i);
  // Handlers read only their x sources (table register kinds) from `x`: store just those locals.
  let s = '';
  if (i.regs[1] === 'x' && i.a !== 0) s += `x[${num(i.a)}]=${g.lo(i.a)};x[${num(i.a + 1)}]=${g.hi(i.a)};`;
  if (i.regs[2] === 'x' && i.b !== 0 && i.b !== i.a)
    s += `x[${num(i.b)}]=${g.lo(i.b)};x[${num(i.b + 1)}]=${g.hi(i.b)};`;
  s += `${g.sync(i)}c.npcLo=${nl};c.npcHi=${nh};`;
  s += `${h}(c,${num(i.d)},${num(i.a)},${num(i.b)},${num(i.imm)},${num(i.raw)});`;
  // The handler may have written rd (an x register) in `x`.
  if (i.regs[0] === 'x' && i.d !== 64 && i.d !== 0)
    s += `l${i.d >> 1}=x[${num(i.d)}];h${i.d >> 1}=x[${num(i.d + 1)}];`;
  if (i.regs[0] === 'x' && i.d !== 64 && i.d !== 0) g.used.add(i.d >> 1);
  if (ends) return s + g.exitHere(i.k);
  return s + `if(c.attn!==0){${g.exitHere(i.k)}}`;
}

/** Decoded instruction at a page offset, or null if it straddles the page end. */
export function insnAt(page: Int32Array, off: number, decode: (slot: number) => number): Insn | null {
  const s = off >> 1;
  let w = page[s * 3];
  if (w === OP_UNDECODED) w = decode(s);
  const op = w & 1023;
  if (op === OP_CROSS) return null;
  const def = insnOfOp(op);
  return {
    op,
    name: op === OP_ILLEGAL || def === null ? '' : def.name,
    d: (w >>> 10) & 127,
    a: (w >>> 17) & 63,
    b: (w >>> 23) & 63,
    imm: page[s * 3 + 1],
    raw: page[s * 3 + 2],
    k: 0,
    off,
    len: w & (1 << 29) ? 2 : 4,
    regs: def?.regs ?? '----',
  };
}

const DIRECT = new Set(['jal', 'beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu']);

/** A straight run of instructions from `start`, stopping before any offset in `stops`. */
export function scanBlock(
  page: Int32Array,
  start: number,
  stops: Set<number>,
  decode: (slot: number) => number,
): Insn[] {
  const out: Insn[] = [];
  let off = start;
  while (off < 4096 && out.length < MAX_BLOCK_INSNS) {
    if (out.length > 0 && stops.has(off)) break;
    const i = insnAt(page, off, decode);
    if (i === null) break;
    i.k = out.length;
    out.push(i);
    off += i.len;
    if (ENDS_BLOCK[i.op] || SPLITS_BLOCK[i.op]) break;
  }
  return out;
}

/** Static successors (page offsets) of a block: branch targets, fall-through, call return points. */
export function successors(b: Insn[]): number[] {
  const last = b[b.length - 1];
  const fall = last.off + last.len;
  if (!ENDS_BLOCK[last.op]) return [fall];
  if (last.name === 'jal') return last.d === 64 ? [last.off + last.imm] : [last.off + last.imm, fall];
  if (DIRECT.has(last.name)) return [last.off + last.imm, fall];
  // Indirect jumps and system instructions: the return point of a call or trap is likely next.
  if (last.name === 'mret' || last.name === 'sret' || (last.name === 'jalr' && last.d === 64)) return [];
  return [fall];
}

export interface Region {
  fn: BlockFn;
  /** Block starts (page offsets) the function can be entered at, with their block lengths. */
  starts: Map<number, number>;
  insns: number;
}

/**
 * The blocks of the region entered at page offset `entry` (see `translate`), in address order, or
 * null when nothing can be compiled there. Shared by the JavaScript and WebAssembly back ends.
 */
export function discoverRegion(
  page: Int32Array,
  entry: number,
  decode: (slot: number) => number,
  include: (off: number) => boolean,
): Insn[][] | null {
  // Pass 1: discover block starts breadth-first.
  const starts = new Set<number>([entry]);
  const queue = [entry];
  let total = 0;
  while (queue.length > 0 && total < MAX_REGION_INSNS) {
    const b = scanBlock(page, queue.shift()!, starts, decode);
    if (b.length === 0) continue;
    total += b.length;
    for (const t of successors(b)) {
      if (t < 0 || t >= 4096 || t & 1 || starts.has(t) || !include(t)) continue;
      starts.add(t);
      queue.push(t);
    }
  }
  // Pass 2: blocks split at every start, laid out in address order.
  const blocks: Insn[][] = [];
  for (const st of [...starts].sort((p, q) => p - q)) {
    const b = scanBlock(page, st, starts, decode);
    if (b.length > 0) blocks.push(b);
  }
  if (blocks.length === 0 || blocks[0].length === 0 || !blocks.some((b) => b[0].off === entry)) return null;
  return blocks;
}

/**
 * Translate the region entered at page offset `entry` of a decoded page: every block reachable from
 * it through direct branches, jumps and fall-throughs inside the page (plus the return points of
 * calls) that `include` accepts (the dispatcher passes "has run and has no code yet", so cold paths
 * and other regions' blocks are not translated again), up to MAX_REGION_INSNS, compiled into one
 * function that switches on the block offset in a
 * loop. Branches between the region's blocks stay inside the function (registers stay in locals);
 * anything else exits to the dispatcher. `decode` fills an undecoded slot (the caller owns fetch).
 * Returns null when nothing can be compiled at `entry` (it straddles the page end).
 */
export function translate(
  page: Int32Array,
  entry: number,
  decode: (slot: number) => number,
  include: (off: number) => boolean = () => true,
): Region | null {
  const blocks = discoverRegion(page, entry, decode, include);
  if (blocks === null) return null;
  const g = new RegionGen();
  for (const b of blocks) g.starts.set(b[0].off, b.length);

  let body = '';
  let insns = 0;
  blocks.forEach((b, bi) => {
    g.curLen = b.length;
    g.layoutNext = bi + 1 < blocks.length ? blocks[bi + 1][0].off : -1;
    insns += b.length;
    let code = '';
    for (const i of b) {
      const e = EMIT[i.name];
      code += e !== undefined ? e(g, i) : generic(g, i, ENDS_BLOCK[i.op] === 1);
    }
    const last = b[b.length - 1];
    if (!ENDS_BLOCK[last.op]) code += g.goto(last.off + last.len, true);
    body += `case ${num(b[0].off)}:{${code}}`;
  });

  const used = [...g.used].sort((p, q) => p - q);
  const wb = [...g.written]
    .sort((p, q) => p - q)
    .map((r) => `x[${num(2 * r)}]=l${r};x[${num(2 * r + 1)}]=h${r};`)
    .join('');
  let pro = used.map((r) => `let l${r}=x[${num(2 * r)}],h${r}=x[${num(2 * r + 1)}];`).join('');
  if (g.usesLoadTlb) pro += 'const RT=c.tlbR,rt=RT.tag,ro=RT.off,rb=RT.blk;';
  if (g.usesStoreTlb) pro += 'const WT=c.tlbW,wt=WT.tag,wo=WT.off,wb=WT.blk;';
  pro += 'const base=lo&-4096;let pc=lo&4095,m=0,ret=0;';
  const loop = `R:for(;;){switch(pc){${body}default:c.npcLo=base|pc;c.npcHi=hi;ret=m;break R;}}`;
  const hs = g.handlers.map((_, k) => `const H${k}=HS[${num(k)}];`).join('');
  const helpers =
    'const R=I.r,mul64=I.mul64,mulh64=I.mulh64,mulhsu64=I.mulhsu64,mulhu64=I.mulhu64,' +
    'div64=I.div64,divu64=I.divu64,rem64=I.rem64,remu64=I.remu64;';
  const src = `"use strict";${helpers}${hs}return function region(c,x,lo,hi,n,lim){${pro}${loop}${wb}return ret;};`;
  const factory = new Function('HS', 'I', src) as (hs: Handler[], i: typeof I64) => BlockFn;
  return { fn: factory(g.handlers, I64), starts: g.starts, insns };
}

/** Source of the block at `slot` (for debugging and tests): same as `translate` compiles. */
export function blockSource(fn: BlockFn): string {
  return fn.toString();
}
