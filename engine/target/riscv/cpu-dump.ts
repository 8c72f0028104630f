/**
 * `info registers` for a RISC-V hart in QEMU's layout (riscv_cpu_dump_state): pc, the CSR list,
 * then x and f registers four per line. Hypervisor CSRs and the ` V = ` line are printed by QEMU
 * only when the H extension is present, which this engine does not implement.
 */
import type { RiscvCpu } from './cpu.js';
import {
  CSR_MCAUSE,
  CSR_MEDELEG,
  CSR_MEPC,
  CSR_MIDELEG,
  CSR_MIE,
  CSR_MSCRATCH,
  CSR_MSTATUS,
  CSR_MTVAL,
  CSR_MTVEC,
  CSR_SATP,
  CSR_SCAUSE,
  CSR_SEPC,
  CSR_SSCRATCH,
  CSR_STVAL,
  CSR_STVEC,
} from './cpu-state.js';
import { ABI_NAMES, FP_ABI_NAMES } from './disas.js';

function hex(lo: number, hi: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

export function formatRegisters(c: RiscvCpu, header = true): string {
  const lines: string[] = [];
  if (header) lines.push(`CPU#${c.hartid}`);
  const csr = (name: string, lo: number, hi: number): void => {
    lines.push(` ${name.padEnd(8)} ${hex(lo, hi)}`);
  };
  const slot = (name: string, s: number): void => csr(name, c.csr[s * 2], c.csr[s * 2 + 1]);
  csr('pc', c.npcLo, c.npcHi);
  csr('mhartid', c.hartid, 0);
  slot('mstatus', CSR_MSTATUS);
  csr('mip', c.readMip(), 0);
  slot('mie', CSR_MIE);
  slot('mideleg', CSR_MIDELEG);
  slot('medeleg', CSR_MEDELEG);
  slot('mtvec', CSR_MTVEC);
  slot('stvec', CSR_STVEC);
  slot('mepc', CSR_MEPC);
  slot('sepc', CSR_SEPC);
  slot('mcause', CSR_MCAUSE);
  slot('scause', CSR_SCAUSE);
  slot('mtval', CSR_MTVAL);
  slot('stval', CSR_STVAL);
  slot('mscratch', CSR_MSCRATCH);
  slot('sscratch', CSR_SSCRATCH);
  slot('satp', CSR_SATP);
  for (const [prefix, names, arr] of [
    ['x', ABI_NAMES, c.x],
    ['f', FP_ABI_NAMES, c.f],
  ] as const) {
    for (let i = 0; i < 32; i += 4) {
      let l = '';
      for (let j = i; j < i + 4; j++)
        l += ` ${`${prefix}${j}/${names[j]}`.padEnd(8)} ${hex(arr[2 * j], arr[2 * j + 1])}`;
      lines.push(l);
    }
  }
  return lines.join('\n') + '\n';
}
