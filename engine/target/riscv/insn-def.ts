/**
 * The shape of the single instruction table (v86's approach): each entry gives the name, the
 * mask/match encoding, the operand format, the extension and the handler. The decoder, the
 * interpreter dispatch, the disassembler and the test-coverage checks all read the same table.
 */
import type { RiscvCpu } from './cpu.js';

/**
 * Handler: register operands are pre-doubled indices into `x`/`f` (rd = x0 is the sink 64),
 * `imm` is the format's immediate, `raw` the 32-bit encoding (expanded for compressed ones).
 */
export type Handler = (c: RiscvCpu, rd: number, rs1: number, rs2: number, imm: number, raw: number) => void;

/**
 * Operand formats: which immediate to extract and how to print the operands.
 * R: rd,rs1,rs2  R1: rd,rs1  R4: rd,rs1,rs2,rs3  I: rd,rs1,imm  L: rd,imm(rs1)  S: rs2,imm(rs1)
 * B: rs1,rs2,target  U: rd,imm  J: rd,target  SH: rd,rs1,shamt  CSR: rd,csr,rs1  CSRI: rd,csr,uimm
 * A: rd,rs2,(rs1)  LR: rd,(rs1)  N: no operands  SF: rs1,rs2 (sfence.vma)  FENCE: pred,succ
 */
export type Fmt =
  | 'R'
  | 'R1'
  | 'R4'
  | 'I'
  | 'L'
  | 'S'
  | 'B'
  | 'U'
  | 'J'
  | 'SH'
  | 'CSR'
  | 'CSRI'
  | 'A'
  | 'LR'
  | 'N'
  | 'SF'
  | 'FENCE';

export interface InsnDef {
  name: string;
  mask: number;
  match: number;
  fmt: Fmt;
  ext: string;
  /** Register kinds of rd, rs1, rs2, rs3: 'x' integer, 'f' floating point, '-' unused. */
  regs: string;
  exec: Handler;
  /** Set when the floating-point rounding mode field is an operand (printed when not dynamic). */
  rm?: boolean;
}

export interface EncFields {
  op: number;
  f3?: number;
  f7?: number;
  f6?: number;
  f5?: number;
  f12?: number;
  fmt?: number;
  rs2?: number;
  rs1?: number;
  rd?: number;
}

/** Mask and match for fixed fields. */
export function enc(e: EncFields): [number, number] {
  let mask = 0x7f;
  let match = e.op;
  const put = (v: number | undefined, shift: number, width: number): void => {
    if (v === undefined) return;
    const m = ((1 << width) - 1) << shift;
    mask |= m;
    match = (match & ~m) | ((v << shift) & m);
  };
  put(e.f3, 12, 3);
  put(e.f7, 25, 7);
  put(e.f6, 26, 6);
  put(e.f5, 27, 5);
  put(e.f12, 20, 12);
  put(e.fmt, 25, 2);
  put(e.rs2, 20, 5);
  put(e.rs1, 15, 5);
  put(e.rd, 7, 5);
  return [mask >>> 0, match >>> 0];
}

export function def(
  name: string,
  e: EncFields,
  fmt: Fmt,
  ext: string,
  regs: string,
  exec: Handler,
  rm = false,
): InsnDef {
  const [mask, match] = enc(e);
  return { name, mask, match, fmt, ext, regs, exec, rm };
}
