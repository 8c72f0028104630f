/**
 * Disassembler over the instruction table (used by traces and tests). Compressed instructions are
 * shown as their 32-bit expansion with a `c.` marker, since both share one table entry.
 */
import { CSR_NAMES } from './csr.js';
import { expandRvc, immediate, INSNS, lookup32 } from './decode.js';

export const ABI_NAMES = [
  'zero',
  'ra',
  'sp',
  'gp',
  'tp',
  't0',
  't1',
  't2',
  's0',
  's1',
  'a0',
  'a1',
  'a2',
  'a3',
  'a4',
  'a5',
  'a6',
  'a7',
  's2',
  's3',
  's4',
  's5',
  's6',
  's7',
  's8',
  's9',
  's10',
  's11',
  't3',
  't4',
  't5',
  't6',
];
export const FP_ABI_NAMES = [
  'ft0',
  'ft1',
  'ft2',
  'ft3',
  'ft4',
  'ft5',
  'ft6',
  'ft7',
  'fs0',
  'fs1',
  'fa0',
  'fa1',
  'fa2',
  'fa3',
  'fa4',
  'fa5',
  'fa6',
  'fa7',
  'fs2',
  'fs3',
  'fs4',
  'fs5',
  'fs6',
  'fs7',
  'fs8',
  'fs9',
  'fs10',
  'fs11',
  'ft8',
  'ft9',
  'ft10',
  'ft11',
];
const RM_NAMES = ['rne', 'rtz', 'rdn', 'rup', 'rmm', '', '', 'dyn'];

function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/**
 * Disassemble one instruction. `raw` is the 16- or 32-bit encoding; `pc` (optional) turns branch
 * and jump offsets into absolute targets.
 */
export function disassemble(raw: number, pc?: bigint): string {
  let word = raw >>> 0;
  let prefix = '';
  if ((raw & 3) !== 3) {
    word = expandRvc(raw & 0xffff) >>> 0;
    prefix = 'c.';
    if (word === 0) return `.2byte 0x${(raw & 0xffff).toString(16)}`;
  }
  const idx = lookup32(word);
  if (idx < 0) return prefix ? `.2byte 0x${(raw & 0xffff).toString(16)}` : `.4byte 0x${word.toString(16)}`;
  const d = INSNS[idx];
  const rd = (word >>> 7) & 31;
  const rs1 = (word >>> 15) & 31;
  const rs2 = (word >>> 20) & 31;
  const rs3 = word >>> 27;
  const reg = (kind: string, n: number): string => (kind === 'f' ? FP_ABI_NAMES[n] : ABI_NAMES[n]);
  const imm = immediate(d, word);
  const target = (off: number): string =>
    pc === undefined ? hex(BigInt(off)) : hex(BigInt.asUintN(64, pc + BigInt(off)));
  let ops: string[];
  switch (d.fmt) {
    case 'R':
      ops = [reg(d.regs[0], rd), reg(d.regs[1], rs1), reg(d.regs[2], rs2)];
      break;
    case 'R1':
      ops = [reg(d.regs[0], rd), reg(d.regs[1], rs1)];
      break;
    case 'R4':
      ops = [reg('f', rd), reg('f', rs1), reg('f', rs2), reg('f', rs3)];
      break;
    case 'I':
      ops = [reg(d.regs[0], rd), reg(d.regs[1], rs1), String(imm)];
      break;
    case 'SH':
      ops = [reg(d.regs[0], rd), reg(d.regs[1], rs1), String(imm)];
      break;
    case 'L':
      ops = [reg(d.regs[0], rd), `${imm}(${reg('x', rs1)})`];
      break;
    case 'S':
      ops = [reg(d.regs[2], rs2), `${imm}(${reg('x', rs1)})`];
      break;
    case 'B':
      ops = [reg('x', rs1), reg('x', rs2), target(imm)];
      break;
    case 'U':
      ops = [reg('x', rd), hex(BigInt((imm >>> 12) & 0xfffff))];
      break;
    case 'J':
      ops = [reg('x', rd), target(imm)];
      break;
    case 'CSR':
    case 'CSRI': {
      const csr = CSR_NAMES[imm] ?? hex(BigInt(imm));
      ops = [reg('x', rd), csr, d.fmt === 'CSR' ? reg('x', rs1) : String(rs1)];
      break;
    }
    case 'A':
      ops = [reg('x', rd), reg('x', rs2), `(${reg('x', rs1)})`];
      break;
    case 'LR':
      ops = [reg('x', rd), `(${reg('x', rs1)})`];
      break;
    case 'SF':
      ops = [reg('x', rs1), reg('x', rs2)];
      break;
    default:
      ops = [];
  }
  let name = d.name;
  if (d.fmt === 'A' || d.fmt === 'LR') {
    const aq = (word >>> 26) & 1;
    const rl = (word >>> 25) & 1;
    name += (aq ? '.aq' : '') + (rl ? '.rl' : '');
  }
  if (d.rm) {
    const rm = (word >>> 12) & 7;
    if (rm !== 7) ops.push(RM_NAMES[rm] || String(rm));
  }
  return `${prefix}${name}${ops.length ? ' ' + ops.join(',') : ''}`;
}
