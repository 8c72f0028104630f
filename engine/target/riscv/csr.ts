/**
 * Control and status registers: access checks, read views (sstatus, sie, sip...) and WARL writes,
 * following QEMU's target/riscv/csr.c for the rv64 CPU (without the hypervisor extension).
 *
 * `csrRead` returns the low word and leaves the high word in `cpu.rhi`; it returns `undefined`-free
 * results: an access that must trap reports `CSR_ILLEGAL` through `csrAccessible` first.
 */
import type { RiscvCpu } from './cpu.js';
import {
  CSR_FCSR,
  CSR_MCAUSE,
  CSR_MCOUNTEREN,
  CSR_MCOUNTINHIBIT,
  CSR_MCYCLE_OFS,
  CSR_MEDELEG,
  CSR_MENVCFG,
  CSR_MEPC,
  CSR_MIDELEG,
  CSR_MIE,
  CSR_MINSTRET_OFS,
  CSR_MIP,
  CSR_MSCRATCH,
  CSR_MSECCFG,
  CSR_MSTATUS,
  CSR_MTVAL,
  CSR_MTVEC,
  CSR_PMPADDR0,
  CSR_SATP,
  CSR_SCAUSE,
  CSR_SCOUNTEREN,
  CSR_SENVCFG,
  CSR_SEPC,
  CSR_SSCRATCH,
  CSR_STIMECMP,
  CSR_STVAL,
  CSR_STVEC,
  DELEGABLE_EXCPS,
  MENVCFG_HI_STCE,
  MENVCFG_LO_MASK,
  MIP_SEIP,
  MIP_SSIP,
  MIP_STIP,
  MISA_EXT,
  MSTATUS_FS,
  MSTATUS_HI_SD,
  MSTATUS_MIE,
  MSTATUS_MPIE,
  MSTATUS_MPP,
  MSTATUS_MPRV,
  MSTATUS_MXR,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  MSTATUS_SUM,
  MSTATUS_TSR,
  MSTATUS_TVM,
  MSTATUS_TW,
  MSTATUS_XS,
  MSTATUS_UBE,
  PRV_M,
  PRV_S,
  PRV_U,
  S_INTERRUPTS,
} from './cpu-state.js';

export const CSR_NAMES: Record<number, string> = {
  0x001: 'fflags',
  0x002: 'frm',
  0x003: 'fcsr',
  0xc00: 'cycle',
  0xc01: 'time',
  0xc02: 'instret',
  0x100: 'sstatus',
  0x104: 'sie',
  0x105: 'stvec',
  0x106: 'scounteren',
  0x10a: 'senvcfg',
  0x140: 'sscratch',
  0x141: 'sepc',
  0x142: 'scause',
  0x143: 'stval',
  0x144: 'sip',
  0x14d: 'stimecmp',
  0x180: 'satp',
  0xf11: 'mvendorid',
  0xf12: 'marchid',
  0xf13: 'mimpid',
  0xf14: 'mhartid',
  0xf15: 'mconfigptr',
  0x300: 'mstatus',
  0x301: 'misa',
  0x302: 'medeleg',
  0x303: 'mideleg',
  0x304: 'mie',
  0x305: 'mtvec',
  0x306: 'mcounteren',
  0x30a: 'menvcfg',
  0x320: 'mcountinhibit',
  0x340: 'mscratch',
  0x341: 'mepc',
  0x342: 'mcause',
  0x343: 'mtval',
  0x344: 'mip',
  0x747: 'mseccfg',
  0xb00: 'mcycle',
  0xb02: 'minstret',
};
for (let i = 0; i < 16; i++) CSR_NAMES[0x3a0 + i] = `pmpcfg${i}`;
for (let i = 0; i < 16; i++) CSR_NAMES[0x3b0 + i] = `pmpaddr${i}`;
for (let i = 3; i < 32; i++) {
  CSR_NAMES[0xc00 + i] = `hpmcounter${i}`;
  CSR_NAMES[0xb00 + i] = `mhpmcounter${i}`;
  CSR_NAMES[0x320 + i] = `mhpmevent${i}`;
}

/** QEMU's marchid/mimpid for its own CPUs: (major << 16) | (minor << 8) | micro; Debian's QEMU is 7.2.22. */
export const QEMU_MARCHID = 0x070216;

const MSTATUS_WMASK =
  MSTATUS_SIE |
  MSTATUS_MIE |
  MSTATUS_SPIE |
  MSTATUS_MPIE |
  MSTATUS_SPP |
  MSTATUS_MPP |
  MSTATUS_FS |
  MSTATUS_MPRV |
  MSTATUS_SUM |
  MSTATUS_MXR |
  MSTATUS_TVM |
  MSTATUS_TW |
  MSTATUS_TSR;
const SSTATUS_RMASK =
  MSTATUS_SIE |
  MSTATUS_SPIE |
  MSTATUS_UBE |
  MSTATUS_SPP |
  MSTATUS_FS |
  MSTATUS_XS |
  MSTATUS_SUM |
  MSTATUS_MXR;
const SSTATUS_WMASK = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR;
const MIE_WMASK = 0xaaa;
const MIDELEG_WMASK = S_INTERRUPTS;

/** Can `priv` access CSR `num` (write = the instruction writes it)? Also rejects unknown CSRs. */
export function csrAccessible(c: RiscvCpu, num: number, write: boolean): boolean {
  if (write && num >>> 10 === 3) return false; // read-only space
  if (((num >>> 8) & 3) > c.priv) return false;
  if (num <= 3) return !c.fsOff;
  if (num >= 0xc00 && num <= 0xc1f) {
    // Counters: time needs a time source; mcounteren/scounteren gate lower privileges.
    if (num === 0xc01 && !c.time) return false;
    const bit = 1 << (num & 31);
    if (c.priv < PRV_M && !(c.csr[CSR_MCOUNTEREN * 2] & bit)) return false;
    if (c.priv < PRV_S && !(c.csr[CSR_SCOUNTEREN * 2] & bit)) return false;
    return true;
  }
  if (num === 0x180 && c.priv === PRV_S && c.csr[CSR_MSTATUS * 2] & MSTATUS_TVM) return false;
  if (num === 0x14d) {
    if (!c.time) return false;
    if (c.priv === PRV_M) return true;
    return (c.csr[CSR_MCOUNTEREN * 2] & 2) !== 0 && (c.csr[CSR_MENVCFG * 2 + 1] & MENVCFG_HI_STCE) !== 0;
  }
  if (num >= 0x3a0 && num <= 0x3af) return (num & 1) === 0; // rv64: odd pmpcfg do not exist
  if (num >= 0x3b0 && num <= 0x3bf) return true;
  if ((num >= 0xb03 && num <= 0xb1f) || (num >= 0x323 && num <= 0x33f)) return true;
  return num in CSR_NAMES;
}

function pair(c: RiscvCpu, slot: number): number {
  c.rhi = c.csr[slot * 2 + 1];
  return c.csr[slot * 2];
}

function num64(lo: number, hi: number): number {
  return (hi >>> 0) * 4294967296 + (lo >>> 0);
}
/** Signed 64-bit value of a pair (counter offsets are small enough to be exact). */
function sgn64(lo: number, hi: number): number {
  return hi * 4294967296 + (lo >>> 0);
}
function setNum(c: RiscvCpu, v: number): number {
  if (v < 0) v += 18446744073709551616;
  // v: non-negative integer < 2^64 (may be inexact above 2^53: counters never get there)
  const hi = Math.floor(v / 4294967296);
  c.rhi = hi | 0;
  return (v - hi * 4294967296) | 0;
}

/** Read CSR `num` (access already checked). Low word returned, high word in c.rhi. */
export function csrRead(c: RiscvCpu, num: number): number {
  const s = c.csr;
  c.rhi = 0;
  switch (num) {
    case 0x001:
      return s[CSR_FCSR * 2] & 0x1f;
    case 0x002:
      return (s[CSR_FCSR * 2] >>> 5) & 7;
    case 0x003:
      return s[CSR_FCSR * 2] & 0xff;
    case 0xc00:
    case 0xb00:
      return setNum(c, c.retired() + sgn64(s[CSR_MCYCLE_OFS * 2], s[CSR_MCYCLE_OFS * 2 + 1]));
    case 0xc02:
    case 0xb02:
      return setNum(c, c.retired() + sgn64(s[CSR_MINSTRET_OFS * 2], s[CSR_MINSTRET_OFS * 2 + 1]));
    case 0xc01:
      return setNum(c, c.time!.ticks());
    case 0x100: {
      const lo = s[CSR_MSTATUS * 2] & SSTATUS_RMASK;
      c.rhi = s[CSR_MSTATUS * 2 + 1] & (3 | MSTATUS_HI_SD); // UXL and SD
      return lo;
    }
    case 0x104:
      return s[CSR_MIE * 2] & s[CSR_MIDELEG * 2];
    case 0x105:
      return pair(c, CSR_STVEC);
    case 0x106:
      return s[CSR_SCOUNTEREN * 2];
    case 0x10a:
      return s[CSR_SENVCFG * 2];
    case 0x140:
      return pair(c, CSR_SSCRATCH);
    case 0x141:
      return pair(c, CSR_SEPC);
    case 0x142:
      return pair(c, CSR_SCAUSE);
    case 0x143:
      return pair(c, CSR_STVAL);
    case 0x144:
      return c.readMip() & s[CSR_MIDELEG * 2];
    case 0x14d:
      return pair(c, CSR_STIMECMP);
    case 0x180:
      return pair(c, CSR_SATP);
    case 0xf11:
      return 0;
    case 0xf12:
    case 0xf13:
      return QEMU_MARCHID;
    case 0xf14:
      return c.hartid;
    case 0xf15:
      return 0;
    case 0x300:
      return pair(c, CSR_MSTATUS);
    case 0x301:
      c.rhi = 0x80000000 | 0; // MXL = 2 (64-bit)
      return MISA_EXT;
    case 0x302:
      return s[CSR_MEDELEG * 2];
    case 0x303:
      return s[CSR_MIDELEG * 2];
    case 0x304:
      return s[CSR_MIE * 2];
    case 0x305:
      return pair(c, CSR_MTVEC);
    case 0x306:
      return s[CSR_MCOUNTEREN * 2];
    case 0x30a:
      return pair(c, CSR_MENVCFG);
    case 0x320:
      return s[CSR_MCOUNTINHIBIT * 2];
    case 0x340:
      return pair(c, CSR_MSCRATCH);
    case 0x341:
      return pair(c, CSR_MEPC);
    case 0x342:
      return pair(c, CSR_MCAUSE);
    case 0x343:
      return pair(c, CSR_MTVAL);
    case 0x344:
      return c.readMip();
    case 0x747:
      return pair(c, CSR_MSECCFG);
  }
  if (num >= 0x3a0 && num <= 0x3af) {
    const base = (num - 0x3a0) * 4; // pmpcfg0 holds entries 0..7, pmpcfg2 entries 8..15
    const cfg = c.pmp.cfg;
    if (base >= 16) return 0;
    c.rhi = cfg[base + 4] | (cfg[base + 5] << 8) | (cfg[base + 6] << 16) | (cfg[base + 7] << 24);
    return cfg[base] | (cfg[base + 1] << 8) | (cfg[base + 2] << 16) | (cfg[base + 3] << 24);
  }
  if (num >= 0x3b0 && num <= 0x3bf) return pair(c, CSR_PMPADDR0 + (num - 0x3b0));
  return 0; // hpm counters and events read as zero
}

/** Write CSR `num` (access already checked). */
export function csrWrite(c: RiscvCpu, num: number, lo: number, hi: number): void {
  const s = c.csr;
  switch (num) {
    case 0x001:
      s[CSR_FCSR * 2] = (s[CSR_FCSR * 2] & ~0x1f) | (lo & 0x1f);
      c.fsDirty();
      return;
    case 0x002:
      s[CSR_FCSR * 2] = (s[CSR_FCSR * 2] & 0x1f) | ((lo & 7) << 5);
      c.fsDirty();
      return;
    case 0x003:
      s[CSR_FCSR * 2] = lo & 0xff;
      c.fsDirty();
      return;
    case 0xb00: {
      const v = setNum(c, num64(lo, hi) - c.retired() - 1);
      s[CSR_MCYCLE_OFS * 2] = v;
      s[CSR_MCYCLE_OFS * 2 + 1] = c.rhi;
      return;
    }
    case 0xb02: {
      // The write takes effect after this instruction retires (which then counts).
      const v = setNum(c, num64(lo, hi) - c.retired() - 0);
      s[CSR_MINSTRET_OFS * 2] = v;
      s[CSR_MINSTRET_OFS * 2 + 1] = c.rhi;
      return;
    }
    case 0x100:
      writeMstatus(c, (s[CSR_MSTATUS * 2] & ~SSTATUS_WMASK) | (lo & SSTATUS_WMASK));
      return;
    case 0x104: {
      const d = s[CSR_MIDELEG * 2];
      s[CSR_MIE * 2] = (s[CSR_MIE * 2] & ~d) | (lo & d & S_INTERRUPTS);
      c.attn = 1;
      return;
    }
    case 0x105:
      if ((lo & 3) < 2) {
        s[CSR_STVEC * 2] = lo;
        s[CSR_STVEC * 2 + 1] = hi;
      }
      return;
    case 0x106:
      s[CSR_SCOUNTEREN * 2] = lo;
      return;
    case 0x10a:
      s[CSR_SENVCFG * 2] = lo & MENVCFG_LO_MASK;
      return;
    case 0x140:
      s[CSR_SSCRATCH * 2] = lo;
      s[CSR_SSCRATCH * 2 + 1] = hi;
      return;
    case 0x141:
      s[CSR_SEPC * 2] = lo & ~1;
      s[CSR_SEPC * 2 + 1] = hi;
      return;
    case 0x142:
      s[CSR_SCAUSE * 2] = lo;
      s[CSR_SCAUSE * 2 + 1] = hi;
      return;
    case 0x143:
      s[CSR_STVAL * 2] = lo;
      s[CSR_STVAL * 2 + 1] = hi;
      return;
    case 0x144: {
      const m = s[CSR_MIDELEG * 2] & MIP_SSIP;
      s[CSR_MIP * 2] = (s[CSR_MIP * 2] & ~m) | (lo & m);
      c.attn = 1;
      return;
    }
    case 0x14d:
      s[CSR_STIMECMP * 2] = lo;
      s[CSR_STIMECMP * 2 + 1] = hi;
      c.attn = 1;
      c.onTimerChange?.();
      return;
    case 0x180: {
      const mode = hi >>> 28;
      if (mode !== 0 && !c.satpModes.includes(mode)) return; // unsupported mode: write ignored
      s[CSR_SATP * 2] = lo;
      s[CSR_SATP * 2 + 1] = hi & (0xf0000000 | (0xffff << 12) | 0xfff);
      c.flushTlb();
      return;
    }
    case 0x300:
      writeMstatus(c, (s[CSR_MSTATUS * 2] & ~MSTATUS_WMASK) | (lo & MSTATUS_WMASK));
      return;
    case 0x301:
      return; // misa is read-only here (QEMU 7.2 ignores writes too)
    case 0x302:
      s[CSR_MEDELEG * 2] = lo & DELEGABLE_EXCPS;
      return;
    case 0x303:
      s[CSR_MIDELEG * 2] = lo & MIDELEG_WMASK;
      c.attn = 1;
      return;
    case 0x304:
      s[CSR_MIE * 2] = lo & MIE_WMASK;
      c.attn = 1;
      return;
    case 0x305:
      if ((lo & 3) < 2) {
        s[CSR_MTVEC * 2] = lo;
        s[CSR_MTVEC * 2 + 1] = hi;
      }
      return;
    case 0x306:
      s[CSR_MCOUNTEREN * 2] = lo;
      return;
    case 0x30a:
      s[CSR_MENVCFG * 2] = lo & MENVCFG_LO_MASK;
      s[CSR_MENVCFG * 2 + 1] = hi & MENVCFG_HI_STCE;
      c.attn = 1;
      c.onTimerChange?.();
      return;
    case 0x320:
      s[CSR_MCOUNTINHIBIT * 2] = lo & ~2;
      return;
    case 0x340:
      s[CSR_MSCRATCH * 2] = lo;
      s[CSR_MSCRATCH * 2 + 1] = hi;
      return;
    case 0x341:
      s[CSR_MEPC * 2] = lo & ~1;
      s[CSR_MEPC * 2 + 1] = hi;
      return;
    case 0x342:
      s[CSR_MCAUSE * 2] = lo;
      s[CSR_MCAUSE * 2 + 1] = hi;
      return;
    case 0x343:
      s[CSR_MTVAL * 2] = lo;
      s[CSR_MTVAL * 2 + 1] = hi;
      return;
    case 0x344: {
      let m = MIP_SSIP | MIP_STIP | MIP_SEIP;
      if (s[CSR_MENVCFG * 2 + 1] & MENVCFG_HI_STCE) m &= ~MIP_STIP;
      s[CSR_MIP * 2] = (s[CSR_MIP * 2] & ~m) | (lo & m);
      c.attn = 1;
      return;
    }
    case 0x747:
      return;
  }
  if (num >= 0x3a0 && num <= 0x3af) {
    const base = (num - 0x3a0) * 4;
    if (base >= 16) return;
    for (let i = 0; i < 8; i++)
      c.pmp.writeCfg(base + i, (i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 0xff);
    c.flushTlb();
    return;
  }
  if (num >= 0x3b0 && num <= 0x3bf) {
    const i = num - 0x3b0;
    if (!c.pmp.addrWritable(i)) return;
    s[(CSR_PMPADDR0 + i) * 2] = lo;
    s[(CSR_PMPADDR0 + i) * 2 + 1] = hi & 0x3fffff;
    c.pmp.recompute();
    c.flushTlb();
    return;
  }
  // hpm counters/events: writes ignored
}

function writeMstatus(c: RiscvCpu, v: number): void {
  const p = CSR_MSTATUS * 2;
  const old = c.csr[p];
  if ((v & MSTATUS_MPP) >>> 11 === 2) v = (v & ~MSTATUS_MPP) | (old & MSTATUS_MPP); // MPP=2 (H) is reserved
  c.csr[p] = v;
  if ((old ^ v) & MSTATUS_MXR) c.flushTlb();
  c.stateChanged();
}

export { PRV_U };
