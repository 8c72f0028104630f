/**
 * WebAssembly back end of the translator: hot regions (jit.ts `discoverRegion`) become wasm
 * functions, which V8 compiles to machine code at once (Liftoff) and optimizes later in the
 * background (TurboFan). Why wasm and not generated JavaScript: JS functions start in V8's bytecode
 * interpreter and only the hottest reach optimized code, so the kernel's warm code ran slower than
 * the interpreter; wasm has native 64-bit integers, needs no (lo, hi) pairs, and is machine code from
 * the first call.
 *
 * Everything the generated code touches lives in the arena (system/guest-arena.ts), the wasm memory
 * shared with JavaScript:
 * - the hart's state block at `st` (the `x` registers as little-endian i64 at st + 8*i, the next pc,
 *   the current data TLBs' addresses, and two words the slow paths return through), see ST_*;
 * - the wasm side of the data TLBs (cpu.ts `Tlb.wtag/host`): tag = page-aligned virtual address
 *   (as the JS TLB), host = arena address of the page; only pages of RAM blocks inside the arena are
 *   entered, so a hit can load or store directly;
 * - guest RAM itself.
 *
 * Generated code reads and writes guest registers in memory (no register caching), so calling an
 * interpreter handler for any instruction without a template needs no synchronisation.
 *
 * Protocol (same as jit.ts): a region is entered at one of its block starts with the instruction
 * budget `lim`; it returns the number of instructions executed. A positive count means the next pc is
 * in the state block (ST_NPC); a negative count means an exit after a call into JavaScript (a trap,
 * an event that set `attn`, a control-transfer handler) whose next pc is already in the RiscvCpu.
 *
 * Safety: the module's bytes are produced here from integers (register numbers, immediates,
 * offsets); guest memory accesses go through the TLB, whose entries only ever point at RAM blocks
 * inside the arena, with the in-page offset masked to 12 bits, so translated code cannot reach
 * anything but the guest's own RAM, the arena's CPU state and TLBs.
 */
import type { RiscvCpu } from './cpu.js';
import { HANDLERS } from './decode.js';
import { discoverRegion, ENDS_BLOCK, type Insn } from './jit.js';
import { arenaMemory } from '../../system/guest-arena.js';
import { TLB_HOST, TLB_MASK } from './tlb-geometry.js';
import { buildModule, Code, Op, T, type FuncDef } from './wasm-emit.js';

/** Layout of a hart's state block in the arena (byte offsets). */
export const ST_NPC = 512;
export const ST_TLBR = 520;
export const ST_TLBW = 524;
export const ST_RHI = 528;
export const ST_STATUS = 532;
export const ST_SIZE = 1024;

export const wasmStats = {
  /** Modules compiled, and the regions in them. */
  modules: 0,
  regions: 0,
  bytes: 0,
  /** Host time spent translating and compiling. */
  genMs: 0,
  compileMs: 0,
};

// ---- the JavaScript side of calls out of translated code ---------------------------------------

/** The hart running translated code, its block's page base and the dispatcher's count so far. */
let cur: RiscvCpu | null = null;
let curBase = 0;
let curHi = 0;
let curN = 0;

/** Make `c` current before entering a region at (lo, hi) with `n` instructions already run. */
export function enterWasm(c: RiscvCpu, lo: number, hi: number, n: number): void {
  cur = c;
  curBase = lo & -4096;
  curHi = hi;
  curN = n;
}

/** pc, npc and the slice count as the interpreter has them before running an instruction. */
function syncPc(c: RiscvCpu, off: number, noff: number, cnt: number): void {
  c.pcLo = curBase | off;
  c.pcHi = curHi;
  const nl = (curBase + noff) | 0;
  c.npcLo = nl;
  c.npcHi = nl >>> 0 < curBase >>> 0 ? (curHi + 1) | 0 : curHi;
  c.sliceN = curN + cnt;
}

const imports = {
  m: null as WebAssembly.Memory | null,
  /** Any instruction without a template: its interpreter handler. Returns non-zero to exit. */
  call(
    op: number,
    d: number,
    a: number,
    b: number,
    imm: number,
    raw: number,
    off: number,
    noff: number,
    cnt: number,
  ): number {
    const c = cur!;
    syncPc(c, off, noff, cnt);
    HANDLERS[op](c, d, a, b, imm, raw);
    return c.attn;
  },
  /** Load slow path (TLB miss, MMIO, misaligned): value's low word; high word and status in the state block. */
  ld(alo: number, ahi: number, size: number, off: number, noff: number, cnt: number): number {
    const c = cur!;
    syncPc(c, off, noff, cnt);
    const v = c.loadSlow(alo, ahi, size);
    const s = c.stWords;
    s[ST_RHI >> 2] = c.rhi;
    s[ST_STATUS >> 2] = c.fault ? 2 : c.attn !== 0 ? 1 : 0;
    return v;
  },
  /** Store slow path; returns 0, or non-zero to exit (fault, code write, event). */
  st(
    alo: number,
    ahi: number,
    size: number,
    vlo: number,
    vhi: number,
    off: number,
    noff: number,
    cnt: number,
  ): number {
    const c = cur!;
    syncPc(c, off, noff, cnt);
    c.storeSlow(alo, ahi, size, vlo, vhi);
    return c.attn;
  },
};

const I32 = T.i32;
const I64 = T.i64;
const IMPORTS = [
  { name: 'call', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32], results: [I32] },
  { name: 'ld', params: [I32, I32, I32, I32, I32, I32], results: [I32] },
  { name: 'st', params: [I32, I32, I32, I32, I32, I32, I32, I32], results: [I32] },
];
const F_CALL = 0;
const F_LD = 1;
const F_ST = 2;

// Locals of the region function: params st, lo, hi, lim, blk; then ours.
const L_ST = 0;
const L_LO = 1;
const L_HI = 2;
const L_LIM = 3;
const L_BLK = 4;
const L_BASE = 5; // i64: page base (virtual)
const L_EA = 6; // i64
const L_A = 7; // i64 temporaries
const L_B = 8;
const L_M = 9; // i32: instructions of completed blocks
const L_E = 10; // i32: TLB index
const L_TB = 11; // i32: TLB base
const L_V = 12; // i32
const LOCALS: T[] = [I64, I64, I64, I64, I32, I32, I32, I32];

const TAG_MASK: Record<number, number> = { 1: -4096, 2: -4095, 4: -4093, 8: -4089 };

/** Code generator for one region. */
class RegionWasm {
  readonly c = new Code();
  /** Structured-control depth inside the current block's code (for `br` to the dispatch loop). */
  depth = 0;
  /** Label index of the dispatch loop from the current block's code, before nesting. */
  loopLabel = 0;
  curLen = 0;
  constructor(
    readonly index: Map<number, number>,
    readonly lens: Map<number, number>,
  ) {}

  reg(a: number): void {
    if (a === 0) this.c.i64(0);
    else this.c.get(L_ST).mem(Op.i64_load, 3, a * 4);
  }
  /** rd = value pushed by `val` (skipped for x0 by the callers of pure ops). */
  wr(d: number, val: () => void): void {
    this.c.get(L_ST);
    val();
    this.c.mem(Op.i64_store, 3, d * 4);
  }
  open(kind: Op.if | Op.block, type: T = T.void): void {
    this.c.op(kind).byte(type);
    this.depth++;
  }
  close(): void {
    this.c.op(Op.end);
    this.depth--;
  }
  /** Return `-(m + k)`: exit after a call-out, the pc already in the RiscvCpu. */
  retNeg(k: number): void {
    this.c.i32(0).get(L_M).i32(k).op(Op.i32_add).op(Op.i32_sub).op(Op.return);
  }
  /** Store npc = base + off and return m + count. */
  exitTo(off: number, count: number): void {
    this.c.get(L_ST).get(L_BASE).i64(off).op(Op.i64_add).mem(Op.i64_store, 3, ST_NPC);
    this.c.get(L_M).i32(count).op(Op.i32_add).op(Op.return);
  }
  /** End of the current block, continuing at page offset t. */
  goto(t: number): void {
    const idx = this.index.get(t);
    if (idx === undefined) {
      this.exitTo(t, this.curLen);
      return;
    }
    const c = this.c;
    c.get(L_M).i32(this.curLen).op(Op.i32_add).set(L_M);
    // if (m + len(t) > lim) exit to t with m
    c.get(L_M).i32(this.lens.get(t)!).op(Op.i32_add).get(L_LIM).op(Op.i32_gt_s);
    this.open(Op.if);
    this.exitTo(t, 0);
    this.close();
    c.i32(idx)
      .set(L_BLK)
      .op(Op.br)
      .u32(this.loopLabel + this.depth);
  }
  /** ea = x[a] + imm into L_EA. */
  ea(a: number, imm: number): void {
    this.reg(a);
    if (imm !== 0) this.c.i64(imm).op(Op.i64_add);
    this.c.set(L_EA);
  }
  /** Pushes (i32) the condition "TLB at state offset `which` has a hit for L_EA at `size`". */
  tlbHit(which: number, size: number): void {
    const c = this.c;
    c.get(L_EA).i64(12).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(TLB_MASK).op(Op.i32_and).set(L_E);
    c.get(L_ST).mem(Op.i32_load, 2, which).set(L_TB);
    c.get(L_TB).get(L_E).i32(3).op(Op.i32_shl).op(Op.i32_add).mem(Op.i64_load, 3, 0);
    c.get(L_EA).i64(TAG_MASK[size]).op(Op.i64_and).op(Op.i64_eq);
  }
  /** Pushes the host address (i32) of L_EA after a hit. */
  hostAddr(): void {
    const c = this.c;
    c.get(L_TB).get(L_E).i32(2).op(Op.i32_shl).op(Op.i32_add).mem(Op.i32_load, 2, TLB_HOST);
    c.get(L_EA).op(Op.i32_wrap_i64).i32(4095).op(Op.i32_and).op(Op.i32_add);
  }
  /** Arguments (off, noff, cnt) of a call-out for instruction i. */
  site(i: Insn): void {
    this.c
      .i32(i.off)
      .i32(i.off + i.len)
      .get(L_M)
      .i32(i.k + 1)
      .op(Op.i32_add);
  }
}

type Emit = (g: RegionWasm, i: Insn) => void;

function load(size: number, signed: boolean): Emit {
  const fast =
    size === 1
      ? signed
        ? Op.i64_load8_s
        : Op.i64_load8_u
      : size === 2
        ? signed
          ? Op.i64_load16_s
          : Op.i64_load16_u
        : size === 4
          ? signed
            ? Op.i64_load32_s
            : Op.i64_load32_u
          : Op.i64_load;
  return (g, i) => {
    const c = g.c;
    g.ea(i.a, i.imm);
    g.tlbHit(ST_TLBR, size);
    g.open(Op.if);
    g.wr(i.d, () => {
      g.hostAddr();
      c.mem(fast, 0, 0);
    });
    c.op(Op.else);
    // Slow path through the CPU (translation, MMIO, faults).
    c.get(L_EA).op(Op.i32_wrap_i64).get(L_EA).i64(32).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(size);
    g.site(i);
    c.op(Op.call).u32(F_LD).set(L_V);
    c.get(L_ST).mem(Op.i32_load, 2, ST_STATUS).i32(2).op(Op.i32_eq);
    g.open(Op.if);
    g.retNeg(i.k + 1); // faulted: rd unchanged, the trap set the pc
    g.close();
    g.wr(i.d, () => {
      c.get(L_V);
      if (size === 8) {
        c.op(Op.i64_extend_i32_u);
        c.get(L_ST).mem(Op.i64_load32_u, 2, ST_RHI).i64(32).op(Op.i64_shl).op(Op.i64_or);
      } else if (!signed || size === 4) {
        c.op(signed ? Op.i64_extend_i32_s : Op.i64_extend_i32_u);
      } else {
        c.op(Op.i64_extend_i32_u).op(size === 1 ? Op.i64_extend8_s : Op.i64_extend16_s);
      }
    });
    c.get(L_ST).mem(Op.i32_load, 2, ST_STATUS);
    g.open(Op.if);
    g.retNeg(i.k + 1); // an event: stop after this load
    g.close();
    g.close();
  };
}

function store(size: number): Emit {
  const fast =
    size === 1 ? Op.i64_store8 : size === 2 ? Op.i64_store16 : size === 4 ? Op.i64_store32 : Op.i64_store;
  return (g, i) => {
    const c = g.c;
    g.ea(i.a, i.imm);
    g.tlbHit(ST_TLBW, size);
    g.open(Op.if);
    g.hostAddr();
    g.reg(i.b);
    c.mem(fast, 0, 0);
    c.op(Op.else);
    c.get(L_EA).op(Op.i32_wrap_i64).get(L_EA).i64(32).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(size);
    g.reg(i.b);
    c.set(L_A).get(L_A).op(Op.i32_wrap_i64).get(L_A).i64(32).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
    g.site(i);
    c.op(Op.call).u32(F_ST);
    g.open(Op.if);
    g.retNeg(i.k + 1);
    g.close();
    g.close();
  };
}

/** rd = f(x[a], x[b]) for i64 binary ops; skipped for rd = x0. */
function rr(f: (c: Code) => void): Emit {
  return (g, i) => {
    if (i.d === 64) return;
    g.wr(i.d, () => {
      g.reg(i.a);
      g.reg(i.b);
      f(g.c);
    });
  };
}
/** rd = f(x[a], imm). */
function ri(f: (c: Code, imm: number) => void): Emit {
  return (g, i) => {
    if (i.d === 64) return;
    g.wr(i.d, () => {
      g.reg(i.a);
      f(g.c, i.imm);
    });
  };
}
const bin = (o: Op) => rr((c) => c.op(o));
const imm = (o: Op) => ri((c, v) => c.i64(v).op(o));
/** 32-bit ops: operate on the low words, sign-extend the result. */
const rrW = (f: (c: Code) => void) =>
  rr((c) => {
    // stack: a(i64) b(i64) -> wrap both
    c.set(L_B).op(Op.i32_wrap_i64).get(L_B).op(Op.i32_wrap_i64);
    f(c);
    c.op(Op.i64_extend_i32_s);
  });
const riW = (f: (c: Code, imm: number) => void) =>
  ri((c, v) => {
    c.op(Op.i32_wrap_i64);
    f(c, v);
    c.op(Op.i64_extend_i32_s);
  });
const cmp = (o: Op) => rr((c) => c.op(o).op(Op.i64_extend_i32_u));
const cmpI = (o: Op) => ri((c, v) => c.i64(v).op(o).op(Op.i64_extend_i32_u));

/** Division with RISC-V's results for x/0 and overflow (wasm would trap). */
function divide(kind: 'div' | 'divu' | 'rem' | 'remu', w: boolean): Emit {
  return (g, i) => {
    if (i.d === 64) return;
    const c = g.c;
    g.wr(i.d, () => {
      g.reg(i.a);
      c.set(L_A);
      g.reg(i.b);
      c.set(L_B);
      if (w) {
        // operate on 64-bit values of the 32-bit operands, then sign-extend the low word
        const ext = kind === 'div' || kind === 'rem' ? Op.i64_extend32_s : null;
        if (ext !== null) {
          c.get(L_A).op(ext).set(L_A).get(L_B).op(ext).set(L_B);
        } else {
          c.get(L_A).i64(0xffffffff).op(Op.i64_and).set(L_A).get(L_B).i64(0xffffffff).op(Op.i64_and).set(L_B);
        }
      }
      c.get(L_B).op(Op.i64_eqz);
      g.open(Op.if, I64);
      if (kind === 'div' || kind === 'divu') c.i64(-1);
      else c.get(L_A);
      c.op(Op.else);
      if (kind === 'div') {
        // x / -1 = -x (wraps for the most negative value, as RISC-V wants)
        c.get(L_B).i64(-1).op(Op.i64_eq);
        g.open(Op.if, I64);
        c.i64(0).get(L_A).op(Op.i64_sub);
        c.op(Op.else);
        c.get(L_A).get(L_B).op(Op.i64_div_s);
        g.close();
      } else if (kind === 'rem') {
        c.get(L_B).i64(-1).op(Op.i64_eq);
        g.open(Op.if, I64);
        c.i64(0);
        c.op(Op.else);
        c.get(L_A).get(L_B).op(Op.i64_rem_s);
        g.close();
      } else {
        c.get(L_A)
          .get(L_B)
          .op(kind === 'divu' ? Op.i64_div_u : Op.i64_rem_u);
      }
      g.close();
      if (w) c.op(Op.i64_extend32_s);
    });
  };
}

/**
 * High 64 bits of the 128-bit product (wasm has no such multiply): schoolbook on 32-bit halves,
 * then the signed corrections (mulh: both signed, mulhsu: rs1 signed).
 */
function mulHigh(kind: 'mulh' | 'mulhu' | 'mulhsu'): Emit {
  const M = 0xffffffff;
  return (g, i) => {
    if (i.d === 64) return;
    const c = g.c;
    g.reg(i.a);
    c.set(L_A);
    g.reg(i.b);
    c.set(L_B);
    g.wr(i.d, () => {
      // mid = (alo*blo >>> 32) + (alo*bhi & M) + (ahi*blo & M), kept in L_EA
      c.get(L_A).i64(M).op(Op.i64_and).get(L_B).i64(M).op(Op.i64_and).op(Op.i64_mul).i64(32).op(Op.i64_shr_u);
      c.get(L_A).i64(M).op(Op.i64_and).get(L_B).i64(32).op(Op.i64_shr_u).op(Op.i64_mul).i64(M).op(Op.i64_and);
      c.op(Op.i64_add);
      c.get(L_A).i64(32).op(Op.i64_shr_u).get(L_B).i64(M).op(Op.i64_and).op(Op.i64_mul).i64(M).op(Op.i64_and);
      c.op(Op.i64_add).set(L_EA);
      // hi = ahi*bhi + (alo*bhi >>> 32) + (ahi*blo >>> 32) + (mid >>> 32)
      c.get(L_A).i64(32).op(Op.i64_shr_u).get(L_B).i64(32).op(Op.i64_shr_u).op(Op.i64_mul);
      c.get(L_A)
        .i64(M)
        .op(Op.i64_and)
        .get(L_B)
        .i64(32)
        .op(Op.i64_shr_u)
        .op(Op.i64_mul)
        .i64(32)
        .op(Op.i64_shr_u);
      c.op(Op.i64_add);
      c.get(L_A)
        .i64(32)
        .op(Op.i64_shr_u)
        .get(L_B)
        .i64(M)
        .op(Op.i64_and)
        .op(Op.i64_mul)
        .i64(32)
        .op(Op.i64_shr_u);
      c.op(Op.i64_add);
      c.get(L_EA).i64(32).op(Op.i64_shr_u).op(Op.i64_add);
      if (kind !== 'mulhu') {
        // - (a < 0 ? b : 0): (a >> 63) & b
        c.get(L_A).i64(63).op(Op.i64_shr_s).get(L_B).op(Op.i64_and).op(Op.i64_sub);
      }
      if (kind === 'mulh') {
        c.get(L_B).i64(63).op(Op.i64_shr_s).get(L_A).op(Op.i64_and).op(Op.i64_sub);
      }
    });
  };
}

function branch(o: Op): Emit {
  return (g, i) => {
    g.reg(i.a);
    g.reg(i.b);
    g.c.op(o);
    g.open(Op.if);
    g.goto(i.off + i.imm);
    g.close();
    g.goto(i.off + i.len);
  };
}

const shadd = (n: number, uw: boolean): Emit =>
  rr((c) => {
    c.set(L_B);
    if (uw) c.i64(0xffffffff).op(Op.i64_and);
    c.i64(n).op(Op.i64_shl).get(L_B).op(Op.i64_add);
  });
const minmax = (lt: Op, pickA: boolean): Emit =>
  rr((c) => {
    c.set(L_B).set(L_A).get(L_A).get(L_B).get(L_A).get(L_B).op(lt);
    if (!pickA) c.op(Op.i32_eqz);
    c.op(Op.select);
  });

const EMIT: Record<string, Emit> = {
  lui: (g, i) => {
    if (i.d !== 64) g.wr(i.d, () => g.c.i64(i.imm));
  },
  auipc: (g, i) => {
    if (i.d !== 64)
      g.wr(i.d, () =>
        g.c
          .get(L_BASE)
          .i64(i.off + i.imm)
          .op(Op.i64_add),
      );
  },
  jal: (g, i) => {
    if (i.d !== 64)
      g.wr(i.d, () =>
        g.c
          .get(L_BASE)
          .i64(i.off + i.len)
          .op(Op.i64_add),
      );
    g.goto(i.off + i.imm);
  },
  jalr: (g, i) => {
    const c = g.c;
    g.ea(i.a, i.imm);
    if (i.d !== 64)
      g.wr(i.d, () =>
        c
          .get(L_BASE)
          .i64(i.off + i.len)
          .op(Op.i64_add),
      );
    c.get(L_ST).get(L_EA).i64(-2).op(Op.i64_and).mem(Op.i64_store, 3, ST_NPC);
    c.get(L_M).i32(g.curLen).op(Op.i32_add).op(Op.return);
  },
  beq: branch(Op.i64_eq),
  bne: branch(Op.i64_ne),
  blt: branch(Op.i64_lt_s),
  bge: branch(Op.i64_ge_s),
  bltu: branch(Op.i64_lt_u),
  bgeu: branch(Op.i64_ge_u),
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
  addi: imm(Op.i64_add),
  slti: cmpI(Op.i64_lt_s),
  sltiu: cmpI(Op.i64_lt_u),
  xori: imm(Op.i64_xor),
  ori: imm(Op.i64_or),
  andi: imm(Op.i64_and),
  slli: imm(Op.i64_shl),
  srli: imm(Op.i64_shr_u),
  srai: imm(Op.i64_shr_s),
  add: bin(Op.i64_add),
  sub: bin(Op.i64_sub),
  sll: bin(Op.i64_shl),
  srl: bin(Op.i64_shr_u),
  sra: bin(Op.i64_shr_s),
  slt: cmp(Op.i64_lt_s),
  sltu: cmp(Op.i64_lt_u),
  xor: bin(Op.i64_xor),
  or: bin(Op.i64_or),
  and: bin(Op.i64_and),
  addiw: riW((c, v) => c.i32(v).op(Op.i32_add)),
  slliw: riW((c, v) => c.i32(v).op(Op.i32_shl)),
  srliw: riW((c, v) => c.i32(v).op(Op.i32_shr_u)),
  sraiw: riW((c, v) => c.i32(v).op(Op.i32_shr_s)),
  addw: rrW((c) => c.op(Op.i32_add)),
  subw: rrW((c) => c.op(Op.i32_sub)),
  sllw: rrW((c) => c.op(Op.i32_shl)),
  srlw: rrW((c) => c.op(Op.i32_shr_u)),
  sraw: rrW((c) => c.op(Op.i32_shr_s)),
  mul: bin(Op.i64_mul),
  mulw: rrW((c) => c.op(Op.i32_mul)),
  mulh: mulHigh('mulh'),
  mulhu: mulHigh('mulhu'),
  mulhsu: mulHigh('mulhsu'),
  div: divide('div', false),
  divu: divide('divu', false),
  rem: divide('rem', false),
  remu: divide('remu', false),
  divw: divide('div', true),
  divuw: divide('divu', true),
  remw: divide('rem', true),
  remuw: divide('remu', true),
  'add.uw': rr((c) => c.set(L_B).i64(0xffffffff).op(Op.i64_and).get(L_B).op(Op.i64_add)),
  sh1add: shadd(1, false),
  sh2add: shadd(2, false),
  sh3add: shadd(3, false),
  'sh1add.uw': shadd(1, true),
  'sh2add.uw': shadd(2, true),
  'sh3add.uw': shadd(3, true),
  'slli.uw': ri((c, v) => c.i64(0xffffffff).op(Op.i64_and).i64(v).op(Op.i64_shl)),
  andn: rr((c) => c.i64(-1).op(Op.i64_xor).op(Op.i64_and)),
  orn: rr((c) => c.i64(-1).op(Op.i64_xor).op(Op.i64_or)),
  xnor: rr((c) => c.op(Op.i64_xor).i64(-1).op(Op.i64_xor)),
  'sext.b': ri((c) => c.op(Op.i64_extend8_s)),
  'sext.h': ri((c) => c.op(Op.i64_extend16_s)),
  'zext.h': ri((c) => c.i64(0xffff).op(Op.i64_and)),
  clz: ri((c) => c.op(Op.i64_clz)),
  ctz: ri((c) => c.op(Op.i64_ctz)),
  cpop: ri((c) => c.op(Op.i64_popcnt)),
  rol: bin(Op.i64_rotl),
  ror: bin(Op.i64_rotr),
  rori: imm(Op.i64_rotr),
  min: minmax(Op.i64_lt_s, true),
  max: minmax(Op.i64_lt_s, false),
  minu: minmax(Op.i64_lt_u, true),
  maxu: minmax(Op.i64_lt_u, false),
  fence: () => {},
  'fence.i': () => {},
};

/** Any other instruction: call its interpreter handler; exit if it ends the block or raised an event. */
function generic(g: RegionWasm, i: Insn): void {
  const c = g.c;
  c.i32(i.op).i32(i.d).i32(i.a).i32(i.b).i32(i.imm).i32(i.raw);
  g.site(i);
  c.op(Op.call).u32(F_CALL);
  if (ENDS_BLOCK[i.op]) {
    c.op(Op.drop);
    g.retNeg(i.k + 1);
    return;
  }
  g.open(Op.if);
  g.retNeg(i.k + 1);
  g.close();
}

/** Names with an inline template (for tests and statistics). */
export const WASM_TEMPLATES: ReadonlySet<string> = new Set(Object.keys(EMIT));

/** A translated region waiting to be compiled (see `compileRegions`). */
export interface PendingRegion {
  code: Code;
  /** Entry points: page offset, block index (the region function's last parameter), block length. */
  entries: Array<{ off: number; blk: number; len: number }>;
  insns: number;
}

/** A compiled region: (state address, pc lo, pc hi, budget, entry block index) -> signed count. */
export type RegionFn = (st: number, lo: number, hi: number, lim: number, blk: number) => number;

/**
 * Translate the region entered at `entry` (see jit.ts `translate` for the arguments) into wasm code;
 * null when nothing can be compiled there. Compilation is separate (`compileRegions`) because a
 * WebAssembly module has a fixed cost of most of a millisecond whatever its size: regions that
 * become hot together are compiled as one module.
 */
export function genRegionWasm(
  page: Int32Array,
  entry: number,
  decode: (slot: number) => number,
  include: (off: number) => boolean = () => true,
): PendingRegion | null {
  const blocks = discoverRegion(page, entry, decode, include);
  if (blocks === null) return null;
  const t0 = performance.now();
  const index = new Map<number, number>();
  const lens = new Map<number, number>();
  blocks.forEach((b, k) => {
    index.set(b[0].off, k);
    lens.set(b[0].off, b.length);
  });
  const g = new RegionWasm(index, lens);
  const c = g.c;
  const n = blocks.length;
  // base = (hi << 32) | (lo & ~0xfff)
  c.get(L_HI).op(Op.i64_extend_i32_u).i64(32).op(Op.i64_shl);
  c.get(L_LO).i32(-4096).op(Op.i32_and).op(Op.i64_extend_i32_u).op(Op.i64_or).set(L_BASE);
  c.op(Op.loop).byte(T.void);
  for (let k = 0; k < n; k++) c.op(Op.block).byte(T.void);
  c.get(L_BLK).op(Op.br_table).u32(n);
  for (let k = 0; k < n; k++) c.u32(k);
  c.u32(n - 1);
  let insns = 0;
  blocks.forEach((b, k) => {
    c.op(Op.end); // closes block k: its code follows
    g.depth = 0;
    g.loopLabel = n - 1 - k;
    g.curLen = b.length;
    insns += b.length;
    for (const i of b) {
      const e = EMIT[i.name];
      if (e !== undefined) e(g, i);
      else generic(g, i);
    }
    const last = b[b.length - 1];
    if (!ENDS_BLOCK[last.op]) g.goto(last.off + last.len);
  });
  c.op(Op.end); // loop
  c.byte(0x00); // unreachable: every block ends in a return or a branch to the loop
  wasmStats.genMs += performance.now() - t0;
  return { code: c, entries: blocks.map((b, k) => ({ off: b[0].off, blk: k, len: b.length })), insns };
}

/** Compile translated regions as one module; returns their functions in order. */
export function compileRegions(regions: PendingRegion[]): RegionFn[] {
  const t0 = performance.now();
  const funcs: FuncDef[] = regions.map((r, k) => ({
    name: `r${k}`,
    params: [I32, I32, I32, I32, I32],
    results: [I32],
    locals: LOCALS,
    code: r.code,
  }));
  const bytes = buildModule({ min: 1, max: 65536 }, IMPORTS, funcs);
  imports.m ??= arenaMemory();
  const mod = new WebAssembly.Module(bytes);
  const inst = new WebAssembly.Instance(mod, { e: imports as unknown as WebAssembly.ModuleImports });
  wasmStats.modules++;
  wasmStats.regions += regions.length;
  wasmStats.bytes += bytes.length;
  wasmStats.compileMs += performance.now() - t0;
  return regions.map((_, k) => inst.exports[`r${k}`] as RegionFn);
}
