/** Zicsr, Zifencei and the privileged instructions (ecall, ebreak, xret, wfi, sfence.vma). */
import type { RiscvCpu } from './cpu.js';
import {
  CSR_MSTATUS,
  EXCP_BREAKPOINT,
  EXCP_M_ECALL,
  EXCP_S_ECALL,
  EXCP_U_ECALL,
  MSTATUS_TSR,
  MSTATUS_TVM,
  MSTATUS_TW,
  PRV_M,
  PRV_S,
  PRV_U,
} from './cpu-state.js';
import { csrAccessible, csrRead, csrWrite } from './csr.js';
import { def, type Handler, type InsnDef } from './insn-def.js';

const SYSTEM = 0x73;
const SINK = 64;

/** csrrw/csrrs/csrrc and immediate forms. `op`: 0 write, 1 set, 2 clear. */
function csrOp(op: 0 | 1 | 2, imm: boolean): Handler {
  return (c, d, a, _b, num, raw) => {
    const x = c.x;
    const srcLo = imm ? a >> 1 : x[a];
    const srcHi = imm ? 0 : x[a + 1];
    const writes = op === 0 || a !== 0;
    const reads = op !== 0 || d !== SINK;
    if (!csrAccessible(c, num, writes)) {
      c.illegal(raw);
      return;
    }
    let oldLo = 0;
    let oldHi = 0;
    if (reads) {
      oldLo = csrRead(c, num);
      oldHi = c.rhi;
    }
    if (writes) {
      let lo = srcLo;
      let hi = srcHi;
      if (op === 1) {
        lo = oldLo | srcLo;
        hi = oldHi | srcHi;
      } else if (op === 2) {
        lo = oldLo & ~srcLo;
        hi = oldHi & ~srcHi;
      }
      csrWrite(c, num, lo, hi);
      // Writes can change interrupt enables or translation: end the slice so the loop re-checks.
      c.attn = 1;
    }
    x[d] = oldLo;
    x[d + 1] = oldHi;
  };
}

export const SYS_INSNS: InsnDef[] = [
  def('ecall', { op: SYSTEM, f3: 0, f12: 0, rs1: 0, rd: 0 }, 'N', 'i', '----', (c) => {
    c.raise(c.priv === PRV_U ? EXCP_U_ECALL : c.priv === PRV_S ? EXCP_S_ECALL : EXCP_M_ECALL, 0, 0);
  }),
  def('ebreak', { op: SYSTEM, f3: 0, f12: 1, rs1: 0, rd: 0 }, 'N', 'i', '----', (c) => {
    c.raise(EXCP_BREAKPOINT, 0, 0); // QEMU 7.2 leaves mtval 0 for ebreak
  }),
  def(
    'sret',
    { op: SYSTEM, f3: 0, f12: 0x102, rs1: 0, rd: 0 },
    'N',
    'priv',
    '----',
    (c, _d, _a, _b, _imm, raw) => {
      if (c.priv < PRV_S || (c.priv === PRV_S && c.csr[CSR_MSTATUS * 2] & MSTATUS_TSR)) return c.illegal(raw);
      c.xret(false);
    },
  ),
  def(
    'mret',
    { op: SYSTEM, f3: 0, f12: 0x302, rs1: 0, rd: 0 },
    'N',
    'priv',
    '----',
    (c, _d, _a, _b, _imm, raw) => {
      if (c.priv < PRV_M) return c.illegal(raw);
      c.xret(true);
    },
  ),
  def(
    'wfi',
    { op: SYSTEM, f3: 0, f12: 0x105, rs1: 0, rd: 0 },
    'N',
    'priv',
    '----',
    (c, _d, _a, _b, _imm, raw) => {
      if (c.priv === PRV_U || (c.priv === PRV_S && c.csr[CSR_MSTATUS * 2] & MSTATUS_TW))
        return c.illegal(raw);
      if (!c.wakeable()) {
        c.wfi = true;
        c.attn = 1; // ends the slice
      }
    },
  ),
  def(
    'sfence.vma',
    { op: SYSTEM, f3: 0, f7: 0x09, rd: 0 },
    'SF',
    'priv',
    '-xx-',
    (c: RiscvCpu, _d, a, _b, _imm, raw) => {
      if (c.priv === PRV_U || (c.priv === PRV_S && c.csr[CSR_MSTATUS * 2] & MSTATUS_TVM))
        return c.illegal(raw);
      // ASIDs are not cached separately, so rs2 does not narrow the flush.
      if (a === 0) c.flushTlb();
      else c.flushPage(c.x[a], c.x[a + 1]);
    },
  ),
  def('fence', { op: 0x0f, f3: 0 }, 'FENCE', 'i', '----', () => {}),
  def('fence.i', { op: 0x0f, f3: 1 }, 'N', 'zifencei', '----', () => {
    // Stores already invalidate decoded pages, so there is nothing to flush.
  }),
  def('csrrw', { op: SYSTEM, f3: 1 }, 'CSR', 'zicsr', 'xx--', csrOp(0, false)),
  def('csrrs', { op: SYSTEM, f3: 2 }, 'CSR', 'zicsr', 'xx--', csrOp(1, false)),
  def('csrrc', { op: SYSTEM, f3: 3 }, 'CSR', 'zicsr', 'xx--', csrOp(2, false)),
  def('csrrwi', { op: SYSTEM, f3: 5 }, 'CSRI', 'zicsr', 'x---', csrOp(0, true)),
  def('csrrsi', { op: SYSTEM, f3: 6 }, 'CSRI', 'zicsr', 'x---', csrOp(1, true)),
  def('csrrci', { op: SYSTEM, f3: 7 }, 'CSRI', 'zicsr', 'x---', csrOp(2, true)),
];
