/**
 * QEMU's `spike` board (hw/riscv/spike.c, QEMU 7.2), the default riscv64 machine: harts, a CLINT
 * (ACLINT MSWI + MTIMER) at 0x2000000, RAM at 0x80000000, the mask ROM with the reset vector, and HTIF
 * for console and exit. Bare-metal test programs (riscv-tests style, with `tohost`/`fromhost`
 * symbols) run with `-bios none -kernel prog.elf` or `-bios prog.elf` and report pass/fail through
 * HTIF; the process exits with the program's code.
 */
import { defineMachine, MachineState, type MachineClass } from '../core/machine.js';
import { Fdt } from '../../system/device-tree.js';
import { RiscvHartArrayState, TYPE_RISCV_CPU_BASE64 } from './riscv_hart.js';
import { getSystemMemory } from './machine-memory.js';
import { HtifState, htifSymbolCallback, type HtifSymbols } from '../char/riscv_htif.js';
import { serialHd } from '../char/serial-hds.js';
import { riscvMachineFinish } from './riscv-machine.js';
import {
  riscvBoardBoot,
  riscvBoardCreateClint,
  riscvBoardCreateHarts,
  riscvBoardCreateMemory,
} from './riscv-board.js';
import {
  riscvFdtAddClint,
  riscvFdtAddCpus,
  riscvFdtAddMemory,
  riscvFdtAddSoc,
  riscvFdtSetRoot,
} from './riscv-fdt.js';

export const SPIKE_CPUS_MAX = 8;
export const SPIKE_MEMMAP = {
  mrom: { base: 0x1000, size: 0xf000 },
  htif: { base: 0x1000000, size: 0x1000 },
  clint: { base: 0x2000000, size: 0x10000 },
  dram: { base: 0x80000000, size: 0 },
} as const;
export const RISCV64_BIOS_ELF = 'opensbi-riscv64-generic-fw_dynamic.elf';

export class SpikeState extends MachineState {
  soc: RiscvHartArrayState | null = null;
  fdt: Fdt | null = null;
  htif: HtifState | null = null;
}

/** spike's create_fdt(). */
export function spikeCreateFdt(s: SpikeState, htifAtSymbols: boolean, cmdline: string | null): Fdt {
  const fdt = new Fdt();
  const m = SPIKE_MEMMAP;
  riscvFdtSetRoot(fdt, 'ucbbar,spike-bare,qemu', 'ucbbar,spike-bare-dev');

  fdt.addSubnode('/htif');
  fdt.setpropString('/htif', 'compatible', 'ucb,htif0');
  if (!htifAtSymbols) fdt.setpropCells('/htif', 'reg', 0, m.htif.base, 0, m.htif.size);

  riscvFdtAddSoc(fdt);
  const { intc } = riscvFdtAddCpus(fdt, s.soc!.harts, 1);
  riscvFdtAddMemory(fdt, m.dram.base, Number(s.ramSize));
  riscvFdtAddClint(fdt, m.clint.base, m.clint.size, intc);

  fdt.addSubnode('/chosen');
  fdt.setpropString('/chosen', 'stdout-path', '/htif');
  if (cmdline) fdt.setpropString('/chosen', 'bootargs', cmdline);
  return fdt;
}

function spikeBoardInit(machine: MachineState): void {
  const s = machine as SpikeState;
  const m = SPIKE_MEMMAP;
  const soc = riscvBoardCreateHarts(s, m.mrom.base);
  s.soc = soc;
  const mtimer = riscvBoardCreateClint(m.clint.base, s.smp.cpus);
  riscvBoardCreateMemory(s, 'riscv.spike.ram', m.dram, 'riscv.spike.mrom', m.mrom);

  // Firmware and kernel; HTIF goes where their tohost/fromhost symbols are. With -bios none and
  // -kernel, the kernel sits at DRAM base and is jumped to directly.
  const syms: Partial<HtifSymbols> = {};
  riscvBoardBoot(s, {
    defaultFirmware: RISCV64_BIOS_ELF,
    dram: m.dram,
    mrom: m.mrom,
    symCb: htifSymbolCallback(syms),
    fdt: () => {
      const htifAtSymbols = syms.tohost !== undefined && syms.fromhost !== undefined;
      return (s.fdt = spikeCreateFdt(s, htifAtSymbols, s.kernelCmdline));
    },
    initrdNeedsKernel: false,
  });

  s.htif = new HtifState(getSystemMemory(), serialHd(0), m.htif.base, syms);
  riscvMachineFinish(soc.harts, [mtimer]);
}

defineMachine({
  name: 'spike',
  desc: 'RISC-V Spike board',
  instance: SpikeState,
  classInit(mc: MachineClass) {
    mc.maxCpus = SPIKE_CPUS_MAX;
    mc.isDefault = true;
    mc.defaultCpuType = TYPE_RISCV_CPU_BASE64;
    mc.defaultRamId = 'riscv.spike.ram';
    mc.numaMemSupported = true;
    mc.defaultRamSize = 128n * 1024n * 1024n;
  },
  init: spikeBoardInit,
});
