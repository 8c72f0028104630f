/**
 * Device-tree nodes both RISC-V boards emit the same way (QEMU's spike.c and virt.c each spell them
 * out): the root's cells, /soc, /cpus with one cpu@N and interrupt controller per hart, the memory
 * node and the CLINT. Each helper adds its nodes where the caller is in QEMU's call order, so the
 * boards keep their node and phandle order.
 */
import type { Fdt } from '../../system/device-tree.js';
import { IRQ_M_SOFT, IRQ_M_TIMER } from '../../target/riscv/cpu-state.js';
import { RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ } from '../intc/riscv_aclint.js';
import type { RiscvCpuState } from './riscv_hart.js';

/**
 * riscv,isa of our harts, in QEMU 7.2's format (single letters, then multi-letter extensions in
 * QEMU's canonical order). QEMU's own rv64 adds "h"; our harts have no hypervisor extension.
 */
export const RISCV_ISA_STRING = 'rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc';

const hex = (n: number) => n.toString(16);

/** The root's model, compatible and 2-cell addresses and sizes. */
export function riscvFdtSetRoot(fdt: Fdt, model: string, compatible: string): void {
  fdt.setpropString('/', 'model', model);
  fdt.setpropString('/', 'compatible', compatible);
  fdt.setpropCell('/', '#size-cells', 2);
  fdt.setpropCell('/', '#address-cells', 2);
}

/** The /soc simple-bus the on-chip devices hang under. */
export function riscvFdtAddSoc(fdt: Fdt): void {
  fdt.addSubnode('/soc');
  fdt.setpropEmpty('/soc', 'ranges');
  fdt.setpropString('/soc', 'compatible', 'simple-bus');
  fdt.setpropCell('/soc', '#size-cells', 2);
  fdt.setpropCell('/soc', '#address-cells', 2);
}

/**
 * /cpus with cpu-map/cluster0: one cpu@hartid (with its interrupt controller) and coreN per hart,
 * last hart first as QEMU adds them. Phandles are handed out from `phandle` on; returns each
 * hart's interrupt-controller phandle (by hart index) and the next free phandle.
 */
export function riscvFdtAddCpus(
  fdt: Fdt,
  harts: readonly RiscvCpuState[],
  phandle: number,
): { intc: number[]; phandle: number } {
  fdt.addSubnode('/cpus');
  fdt.setpropCell('/cpus', 'timebase-frequency', RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ);
  fdt.setpropCell('/cpus', '#size-cells', 0);
  fdt.setpropCell('/cpus', '#address-cells', 1);
  fdt.addSubnode('/cpus/cpu-map');
  const clust = '/cpus/cpu-map/cluster0';
  fdt.addSubnode(clust);
  const intc = new Array<number>(harts.length);
  for (let cpu = harts.length - 1; cpu >= 0; cpu--) {
    const hartid = harts[cpu]!.hartid;
    const cpuPhandle = phandle++;
    const name = `/cpus/cpu@${hartid}`;
    fdt.addSubnode(name);
    fdt.setpropString(name, 'mmu-type', 'riscv,sv48');
    fdt.setpropString(name, 'riscv,isa', RISCV_ISA_STRING);
    fdt.setpropString(name, 'compatible', 'riscv');
    fdt.setpropString(name, 'status', 'okay');
    fdt.setpropCell(name, 'reg', hartid);
    fdt.setpropString(name, 'device_type', 'cpu');
    fdt.setpropCell(name, 'phandle', cpuPhandle);
    intc[cpu] = phandle++;
    const intcName = `${name}/interrupt-controller`;
    fdt.addSubnode(intcName);
    fdt.setpropCell(intcName, 'phandle', intc[cpu]!);
    fdt.setpropString(intcName, 'compatible', 'riscv,cpu-intc');
    fdt.setpropEmpty(intcName, 'interrupt-controller');
    fdt.setpropCell(intcName, '#interrupt-cells', 1);
    const core = `${clust}/core${cpu}`;
    fdt.addSubnode(core);
    fdt.setpropCell(core, 'cpu', cpuPhandle);
  }
  return { intc, phandle };
}

/** /memory@base for `size` bytes of RAM. */
export function riscvFdtAddMemory(fdt: Fdt, base: number, size: number): void {
  const memName = `/memory@${hex(base)}`;
  fdt.addSubnode(memName);
  fdt.setpropCells(memName, 'reg', 0, base, Math.floor(size / 2 ** 32), size >>> 0);
  fdt.setpropString(memName, 'device_type', 'memory');
}

/** /soc/clint@base, wired to every hart's M-mode software and timer interrupts. */
export function riscvFdtAddClint(fdt: Fdt, base: number, size: number, intc: readonly number[]): void {
  const clint = `/soc/clint@${hex(base)}`;
  fdt.addSubnode(clint);
  fdt.setpropStringArray(clint, 'compatible', ['sifive,clint0', 'riscv,clint0']);
  fdt.setpropCells(clint, 'reg', 0, base, 0, size);
  fdt.setpropCells(clint, 'interrupts-extended', ...intc.flatMap((p) => [p, IRQ_M_SOFT, p, IRQ_M_TIMER]));
}
