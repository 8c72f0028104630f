/**
 * RISC-V hart state layout and architectural constants.
 *
 * All architectural state lives in typed arrays plus a few scalars (listed in `RiscvCpu`), so it can
 * be described field by field for VMState and later shared with a WebAssembly JIT:
 *
 * - `x`   Int32Array(66): x0..x31 as (lo, hi) pairs at [2i, 2i+1]; entries 64/65 are a write sink
 *         that the decoder substitutes for rd = x0, so x0 stays zero without a per-instruction check.
 * - `f`   Int32Array(64) over an ArrayBuffer also viewed as Float64Array (`f64`, index i) and
 *         Float32Array (`f32`, index 2i = low word of f[i]): bit-exact moves use `f`, arithmetic
 *         uses the float views. binary32 values are NaN-boxed (high word all ones).
 * - `csr` Int32Array(CSR_SLOTS*2): every stored CSR as a (lo, hi) pair, indexed by the CSR_* slots
 *         below (not by CSR number). Read-only/computed CSRs (misa, mhartid, time...) are not stored.
 * - `pmpcfg` Uint8Array(16): one config byte per PMP entry; `pmpaddr` is in `csr` (PMPADDR0..15).
 */

export const PRV_U = 0;
export const PRV_S = 1;
export const PRV_M = 3;

// CSR storage slots (pair index; multiply by 2 for the Int32Array index).
export const CSR_MSTATUS = 0;
export const CSR_MEDELEG = 1;
export const CSR_MIDELEG = 2;
export const CSR_MIE = 3;
export const CSR_MTVEC = 4;
export const CSR_MCOUNTEREN = 5;
export const CSR_MSCRATCH = 6;
export const CSR_MEPC = 7;
export const CSR_MCAUSE = 8;
export const CSR_MTVAL = 9;
export const CSR_MIP = 10;
export const CSR_MENVCFG = 11;
export const CSR_STVEC = 12;
export const CSR_SCOUNTEREN = 13;
export const CSR_SSCRATCH = 14;
export const CSR_SEPC = 15;
export const CSR_SCAUSE = 16;
export const CSR_STVAL = 17;
export const CSR_SATP = 18;
export const CSR_SENVCFG = 19;
export const CSR_STIMECMP = 20;
export const CSR_FCSR = 21; // frm in bits 7:5, fflags in 4:0
export const CSR_MCOUNTINHIBIT = 22;
export const CSR_MCYCLE_OFS = 23; // value written to mcycle minus instructions retired at the time
export const CSR_MINSTRET_OFS = 24;
export const CSR_MSECCFG = 25;
export const CSR_PMPADDR0 = 26; // .. 41
export const CSR_SLOTS = 42;

/** Names of the stored CSR slots, for state descriptions and debugging. */
export const CSR_SLOT_NAMES = [
  'mstatus',
  'medeleg',
  'mideleg',
  'mie',
  'mtvec',
  'mcounteren',
  'mscratch',
  'mepc',
  'mcause',
  'mtval',
  'mip',
  'menvcfg',
  'stvec',
  'scounteren',
  'sscratch',
  'sepc',
  'scause',
  'stval',
  'satp',
  'senvcfg',
  'stimecmp',
  'fcsr',
  'mcountinhibit',
  'mcycle_ofs',
  'minstret_ofs',
  'mseccfg',
  ...Array.from({ length: 16 }, (_, i) => `pmpaddr${i}`),
];

// mstatus bits (low word unless noted)
export const MSTATUS_SIE = 1 << 1;
export const MSTATUS_MIE = 1 << 3;
export const MSTATUS_SPIE = 1 << 5;
export const MSTATUS_UBE = 1 << 6;
export const MSTATUS_MPIE = 1 << 7;
export const MSTATUS_SPP = 1 << 8;
export const MSTATUS_MPP_SHIFT = 11;
export const MSTATUS_MPP = 3 << 11;
export const MSTATUS_FS = 3 << 13;
export const MSTATUS_XS = 3 << 15;
export const MSTATUS_MPRV = 1 << 17;
export const MSTATUS_SUM = 1 << 18;
export const MSTATUS_MXR = 1 << 19;
export const MSTATUS_TVM = 1 << 20;
export const MSTATUS_TW = 1 << 21;
export const MSTATUS_TSR = 1 << 22;
/** High word: UXL = 2 (bits 33:32), SXL = 2 (bits 35:34); SD is bit 31 of the high word. */
export const MSTATUS_HI_XL = 0xa;
export const MSTATUS_HI_SD = 1 << 31;

// Interrupt bits (mip/mie)
export const IRQ_S_SOFT = 1;
export const IRQ_M_SOFT = 3;
export const IRQ_S_TIMER = 5;
export const IRQ_M_TIMER = 7;
export const IRQ_S_EXT = 9;
export const IRQ_M_EXT = 11;
export const MIP_SSIP = 1 << IRQ_S_SOFT;
export const MIP_MSIP = 1 << IRQ_M_SOFT;
export const MIP_STIP = 1 << IRQ_S_TIMER;
export const MIP_MTIP = 1 << IRQ_M_TIMER;
export const MIP_SEIP = 1 << IRQ_S_EXT;
export const MIP_MEIP = 1 << IRQ_M_EXT;
export const S_INTERRUPTS = MIP_SSIP | MIP_STIP | MIP_SEIP;
export const M_INTERRUPTS = MIP_MSIP | MIP_MTIP | MIP_MEIP;

// Exception causes
export const EXCP_INST_ADDR_MIS = 0;
export const EXCP_INST_ACCESS_FAULT = 1;
export const EXCP_ILLEGAL_INST = 2;
export const EXCP_BREAKPOINT = 3;
export const EXCP_LOAD_ADDR_MIS = 4;
export const EXCP_LOAD_ACCESS_FAULT = 5;
export const EXCP_STORE_AMO_ADDR_MIS = 6;
export const EXCP_STORE_AMO_ACCESS_FAULT = 7;
export const EXCP_U_ECALL = 8;
export const EXCP_S_ECALL = 9;
export const EXCP_M_ECALL = 11;
export const EXCP_INST_PAGE_FAULT = 12;
export const EXCP_LOAD_PAGE_FAULT = 13;
export const EXCP_STORE_PAGE_FAULT = 15;

/** Writable medeleg bits (QEMU's delegable set without the hypervisor ones; it includes M ecall). */
export const DELEGABLE_EXCPS =
  (1 << 0) |
  (1 << 1) |
  (1 << 2) |
  (1 << 3) |
  (1 << 4) |
  (1 << 5) |
  (1 << 6) |
  (1 << 7) |
  (1 << 8) |
  (1 << 9) |
  (1 << 11) |
  (1 << 12) |
  (1 << 13) |
  (1 << 15);

// menvcfg (high word bits)
export const MENVCFG_HI_STCE = 1 << 31; // bit 63
export const MENVCFG_HI_PBMTE = 1 << 30; // bit 62
export const MENVCFG_LO_MASK = 1 | (3 << 4) | (1 << 6) | (1 << 7); // FIOM, CBIE, CBCFE, CBZE

/** misa for RV64IMAFDCSU (QEMU's rv64 adds H, which this engine does not implement). */
export const MISA_EXT =
  (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);
