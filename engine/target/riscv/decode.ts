/**
 * Decoder driven by the instruction table: compressed instructions are expanded to their 32-bit
 * equivalents (so every instruction has exactly one handler), then matched by mask/match within the
 * bucket of its major opcode. The result is packed into a decode-cache slot (see cpu.ts).
 */
import type { RiscvCpu } from './cpu.js';
import type { Handler, InsnDef } from './insn-def.js';
import { FP_INSNS } from './insns-fp.js';
import { INT_INSNS } from './insns-int.js';
import { SYS_INSNS } from './insns-sys.js';

/** The one instruction table. */
export const INSNS: readonly InsnDef[] = [...INT_INSNS, ...FP_INSNS, ...SYS_INSNS];

export const OP_UNDECODED = 0;
export const OP_CROSS = 1;
export const OP_ILLEGAL = 2;
const OP_BASE = 3;
export const RVC_FLAG = 1 << 29;
const SINK = 64;

/** Dispatch table: op index -> handler (index = OP_BASE + position in INSNS). */
export const HANDLERS: Handler[] = [
  () => {
    throw new Error('undecoded slot executed');
  },
  (c: RiscvCpu) => c.execUncached(c.pcLo, c.pcHi),
  (c: RiscvCpu, _d, _a, _b, _imm, raw) => c.illegal(raw),
  ...INSNS.map((d) => d.exec),
];

const buckets: number[][] = Array.from({ length: 128 }, () => []);
{
  const pop = (v: number): number => {
    let n = 0;
    for (let i = 0; i < 32; i++) n += (v >>> i) & 1;
    return n;
  };
  INSNS.forEach((d, i) => buckets[d.match & 0x7f].push(i));
  for (const b of buckets) b.sort((p, q) => pop(INSNS[q].mask) - pop(INSNS[p].mask) || p - q);
  // Sanity: no two entries with identical mask/match.
  const seen = new Set<string>();
  for (const d of INSNS) {
    const k = `${d.mask}/${d.match}`;
    if (seen.has(k)) throw new Error(`duplicate encoding for ${d.name}`);
    seen.add(k);
  }
}

/** Index into INSNS of the entry matching a 32-bit instruction, or -1. */
export function lookup32(raw: number): number {
  const b = buckets[raw & 0x7f];
  for (let i = 0; i < b.length; i++) {
    const d = INSNS[b[i]];
    if ((raw & d.mask) >>> 0 === d.match) return b[i];
  }
  return -1;
}

export function immediate(d: InsnDef, raw: number): number {
  switch (d.fmt) {
    case 'I':
    case 'L':
      return raw >> 20;
    case 'S':
      return ((raw >> 25) << 5) | ((raw >>> 7) & 31);
    case 'B':
      return (
        ((raw >> 31) << 12) |
        (((raw >>> 7) & 1) << 11) |
        (((raw >>> 25) & 0x3f) << 5) |
        (((raw >>> 8) & 0xf) << 1)
      );
    case 'U':
      return raw & 0xfffff000;
    case 'J':
      return (
        ((raw >> 31) << 20) |
        (((raw >>> 12) & 0xff) << 12) |
        (((raw >>> 20) & 1) << 11) |
        (((raw >>> 21) & 0x3ff) << 1)
      );
    case 'SH':
      return (raw >>> 20) & 63;
    case 'CSR':
    case 'CSRI':
      return raw >>> 20;
    default:
      return 0;
  }
}

/** Decode `raw` (16- or 32-bit) into out[slot..slot+2]. */
export function decodeInsn(raw: number, out: Int32Array, slot: number): void {
  let rvc = 0;
  let word = raw;
  if ((raw & 3) !== 3) {
    rvc = RVC_FLAG;
    word = expandRvc(raw & 0xffff);
    if (word === 0) {
      out[slot] = OP_ILLEGAL | rvc;
      out[slot + 1] = 0;
      out[slot + 2] = raw & 0xffff;
      return;
    }
  }
  const idx = lookup32(word);
  if (idx < 0) {
    out[slot] = OP_ILLEGAL | rvc;
    out[slot + 1] = 0;
    out[slot + 2] = rvc ? raw & 0xffff : raw;
    return;
  }
  const d = INSNS[idx];
  const rd = (word >>> 7) & 31;
  const rdIdx = d.regs[0] === 'x' && rd === 0 ? SINK : rd * 2;
  out[slot] =
    (OP_BASE + idx) | (rdIdx << 10) | (((word >>> 15) & 31) << 18) | (((word >>> 20) & 31) << 24) | rvc;
  out[slot + 1] = immediate(d, word);
  out[slot + 2] = word;
}

/** Op index (as stored in decode slots) of the table entry called `name`. */
export function opIndex(name: string): number {
  const i = INSNS.findIndex((d) => d.name === name);
  if (i < 0) throw new Error(`no instruction ${name}`);
  return OP_BASE + i;
}

/** The table entry for a decoded op index (for traces and coverage), or null. */
export function insnOfOp(op: number): InsnDef | null {
  return op >= OP_BASE ? INSNS[op - OP_BASE] : null;
}

// ---- RVC expansion -------------------------------------------------------------------------

const encI = (opc: number, rd: number, f3: number, rs1: number, imm: number): number =>
  ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
const encS = (opc: number, f3: number, rs1: number, rs2: number, imm: number): number =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | opc;
const encB = (f3: number, rs1: number, rs2: number, imm: number): number =>
  (((imm >> 12) & 1) << 31) |
  (((imm >> 5) & 0x3f) << 25) |
  (rs2 << 20) |
  (rs1 << 15) |
  (f3 << 12) |
  (((imm >> 1) & 0xf) << 8) |
  (((imm >> 11) & 1) << 7) |
  0x63;
const encJ = (rd: number, imm: number): number =>
  (((imm >> 20) & 1) << 31) |
  (((imm >> 1) & 0x3ff) << 21) |
  (((imm >> 11) & 1) << 20) |
  (((imm >> 12) & 0xff) << 12) |
  (rd << 7) |
  0x6f;
const encR = (opc: number, f7: number, rs2: number, rs1: number, f3: number, rd: number): number =>
  (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;

/** Expand a 16-bit RVC instruction (RV64C) to its 32-bit equivalent; 0 if reserved/illegal. */
export function expandRvc(h: number): number {
  const bits = (hi: number, lo: number): number => (h >>> lo) & ((1 << (hi - lo + 1)) - 1);
  const b = (i: number): number => (h >>> i) & 1;
  const f3 = h >>> 13;
  const q = h & 3;
  const rdp = 8 + bits(4, 2);
  const rs1p = 8 + bits(9, 7);
  const rd = bits(11, 7);
  const rs2 = bits(6, 2);
  const imm6 = (((b(12) << 5) | bits(6, 2)) << 26) >> 26;
  const uimmD = (bits(12, 10) << 3) | (bits(6, 5) << 6);
  const uimmW = (bits(12, 10) << 3) | (b(6) << 2) | (b(5) << 6);
  if (q === 0) {
    switch (f3) {
      case 0: {
        const nz = (bits(12, 11) << 4) | (bits(10, 7) << 6) | (b(6) << 2) | (b(5) << 3);
        return nz === 0 ? 0 : encI(0x13, rdp, 0, 2, nz);
      }
      case 1:
        return encI(0x07, rdp, 3, rs1p, uimmD);
      case 2:
        return encI(0x03, rdp, 2, rs1p, uimmW);
      case 3:
        return encI(0x03, rdp, 3, rs1p, uimmD);
      case 5:
        return encS(0x27, 3, rs1p, rdp, uimmD);
      case 6:
        return encS(0x23, 2, rs1p, rdp, uimmW);
      case 7:
        return encS(0x23, 3, rs1p, rdp, uimmD);
    }
    return 0;
  }
  if (q === 1) {
    switch (f3) {
      case 0:
        return encI(0x13, rd, 0, rd, imm6);
      case 1:
        return rd === 0 ? 0 : encI(0x1b, rd, 0, rd, imm6);
      case 2:
        return encI(0x13, rd, 0, 0, imm6);
      case 3: {
        if (rd === 2) {
          const nz =
            (((b(12) << 9) | (b(6) << 4) | (b(5) << 6) | (bits(4, 3) << 7) | (b(2) << 5)) << 22) >> 22;
          return nz === 0 ? 0 : encI(0x13, 2, 0, 2, nz);
        }
        const nz = (((b(12) << 17) | (bits(6, 2) << 12)) << 14) >> 14;
        return nz === 0 ? 0 : (nz & 0xfffff000) | (rd << 7) | 0x37;
      }
      case 4: {
        const f2 = bits(11, 10);
        const shamt = (b(12) << 5) | bits(6, 2);
        if (f2 === 0) return encI(0x13, rs1p, 5, rs1p, shamt);
        if (f2 === 1) return encI(0x13, rs1p, 5, rs1p, shamt | 0x400);
        if (f2 === 2) return encI(0x13, rs1p, 7, rs1p, imm6);
        const r2 = 8 + bits(4, 2);
        const f = bits(6, 5);
        if (b(12) === 0) {
          const ops: Array<[number, number]> = [
            [0x20, 0],
            [0, 4],
            [0, 6],
            [0, 7],
          ];
          return encR(0x33, ops[f][0], r2, rs1p, ops[f][1], rs1p);
        }
        if (f === 0) return encR(0x3b, 0x20, r2, rs1p, 0, rs1p);
        if (f === 1) return encR(0x3b, 0, r2, rs1p, 0, rs1p);
        return 0;
      }
      case 5: {
        const imm =
          (((b(12) << 11) |
            (b(11) << 4) |
            (bits(10, 9) << 8) |
            (b(8) << 10) |
            (b(7) << 6) |
            (b(6) << 7) |
            (bits(5, 3) << 1) |
            (b(2) << 5)) <<
            20) >>
          20;
        return encJ(0, imm);
      }
      case 6:
      case 7: {
        const imm =
          (((b(12) << 8) | (bits(11, 10) << 3) | (bits(6, 5) << 6) | (bits(4, 3) << 1) | (b(2) << 5)) <<
            23) >>
          23;
        return encB(f3 === 6 ? 0 : 1, rs1p, 0, imm);
      }
    }
    return 0;
  }
  if (q === 2) {
    switch (f3) {
      case 0:
        return encI(0x13, rd, 1, rd, (b(12) << 5) | bits(6, 2));
      case 1:
        return encI(0x07, rd, 3, 2, (b(12) << 5) | (bits(6, 5) << 3) | (bits(4, 2) << 6));
      case 2:
        return rd === 0 ? 0 : encI(0x03, rd, 2, 2, (b(12) << 5) | (bits(6, 4) << 2) | (bits(3, 2) << 6));
      case 3:
        return rd === 0 ? 0 : encI(0x03, rd, 3, 2, (b(12) << 5) | (bits(6, 5) << 3) | (bits(4, 2) << 6));
      case 4:
        if (b(12) === 0) {
          if (rs2 === 0) return rd === 0 ? 0 : encI(0x67, 0, 0, rd, 0);
          return encR(0x33, 0, rs2, 0, 0, rd);
        }
        if (rs2 === 0) return rd === 0 ? 0x00100073 : encI(0x67, 1, 0, rd, 0);
        return encR(0x33, 0, rs2, rd, 0, rd);
      case 5:
        return encS(0x27, 3, 2, rs2, (bits(12, 10) << 3) | (bits(9, 7) << 6));
      case 6:
        return encS(0x23, 2, 2, rs2, (bits(12, 9) << 2) | (bits(8, 7) << 6));
      case 7:
        return encS(0x23, 3, 2, rs2, (bits(12, 10) << 3) | (bits(9, 7) << 6));
    }
  }
  return 0;
}
