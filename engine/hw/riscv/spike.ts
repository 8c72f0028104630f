/**
 * QEMU's `spike` board (hw/riscv/spike.c, QEMU 7.2), the default riscv64 machine: harts, a CLINT
 * (ACLINT MSWI + MTIMER) at 0x2000000, RAM at 0x80000000, the mask ROM with the reset vector, and HTIF
 * for console and exit. Bare-metal test programs (riscv-tests style, with `tohost`/`fromhost`
 * symbols) run with `-bios none -kernel prog.elf` or `-bios prog.elf` and report pass/fail through
 * HTIF; the process exits with the program's code.
 */
import { objectNewChild } from '../../qom/object.js';
import { errorSetg } from '../../qapi/error.js';
import { defineMachine, MachineState, type MachineClass } from '../core/machine.js';
import { qdevRealize } from '../core/qdev-core.js';
import { sysbusGetDefault } from '../core/sysbus.js';
import { MemoryRegion } from '../../system/memory.js';
import { Fdt } from '../../system/device-tree.js';
import { RiscvHartArrayState, TYPE_RISCV_CPU_BASE64, TYPE_RISCV_HART_ARRAY } from './riscv_hart.js';
import { addressSpaceMemory, getSystemMemory } from './machine-memory.js';
import {
  RISCV_ACLINT_DEFAULT_MTIME,
  RISCV_ACLINT_DEFAULT_MTIMER_SIZE,
  RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ,
  RISCV_ACLINT_SWI_SIZE,
  riscvAclintMtimerCreate,
  riscvAclintSwiCreate,
} from '../intc/riscv_aclint.js';
import { HtifState, htifSymbolCallback, type HtifSymbols } from '../char/riscv_htif.js';
import { serialHd } from '../char/serial-hds.js';
import {
  riscvCalcKernelStartAddr,
  riscvFindAndLoadFirmware,
  riscvLoadFdt,
  riscvLoadInitrd,
  riscvLoadKernel,
  riscvSetupRomResetVec,
} from './boot.js';
import { riscvDumpDtbIfAsked, riscvMachineFinish } from './riscv-machine.js';
import { RISCV_ISA_STRING } from './virt.js';

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

const hex = (n: number) => n.toString(16);

/** spike's create_fdt(). */
export function spikeCreateFdt(s: SpikeState, htifAtSymbols: boolean, cmdline: string | null): Fdt {
  const fdt = new Fdt();
  const m = SPIKE_MEMMAP;
  const harts = s.soc!.harts;
  fdt.setpropString('/', 'model', 'ucbbar,spike-bare,qemu');
  fdt.setpropString('/', 'compatible', 'ucbbar,spike-bare-dev');
  fdt.setpropCell('/', '#size-cells', 2);
  fdt.setpropCell('/', '#address-cells', 2);

  fdt.addSubnode('/htif');
  fdt.setpropString('/htif', 'compatible', 'ucb,htif0');
  if (!htifAtSymbols) fdt.setpropCells('/htif', 'reg', 0, m.htif.base, 0, m.htif.size);

  fdt.addSubnode('/soc');
  fdt.setpropEmpty('/soc', 'ranges');
  fdt.setpropString('/soc', 'compatible', 'simple-bus');
  fdt.setpropCell('/soc', '#size-cells', 2);
  fdt.setpropCell('/soc', '#address-cells', 2);

  fdt.addSubnode('/cpus');
  fdt.setpropCell('/cpus', 'timebase-frequency', RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ);
  fdt.setpropCell('/cpus', '#size-cells', 0);
  fdt.setpropCell('/cpus', '#address-cells', 1);
  fdt.addSubnode('/cpus/cpu-map');
  fdt.addSubnode('/cpus/cpu-map/cluster0');
  let phandle = 1;
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
    const core = `/cpus/cpu-map/cluster0/core${cpu}`;
    fdt.addSubnode(core);
    fdt.setpropCell(core, 'cpu', cpuPhandle);
  }
  const memName = `/memory@${hex(m.dram.base)}`;
  fdt.addSubnode(memName);
  fdt.setpropCells(
    memName,
    'reg',
    0,
    m.dram.base,
    Math.floor(Number(s.ramSize) / 2 ** 32),
    Number(s.ramSize) >>> 0,
  );
  fdt.setpropString(memName, 'device_type', 'memory');
  const clint = `/soc/clint@${hex(m.clint.base)}`;
  fdt.addSubnode(clint);
  fdt.setpropStringArray(clint, 'compatible', ['sifive,clint0', 'riscv,clint0']);
  fdt.setpropCells(clint, 'reg', 0, m.clint.base, 0, m.clint.size);
  fdt.setpropCells(clint, 'interrupts-extended', ...intc.flatMap((p) => [p, 3, p, 7]));

  fdt.addSubnode('/chosen');
  fdt.setpropString('/chosen', 'stdout-path', '/htif');
  if (cmdline) fdt.setpropString('/chosen', 'bootargs', cmdline);
  return fdt;
}

function spikeBoardInit(machine: MachineState): void {
  const s = machine as SpikeState;
  const m = SPIKE_MEMMAP;
  const system = getSystemMemory();
  const as = addressSpaceMemory();
  const smp = s.smp.cpus;
  if (s.cpuType && s.cpuType !== TYPE_RISCV_CPU_BASE64) {
    throw errorSetg(`unable to find CPU model '${s.cpuType.replace(/-riscv-cpu$/, '')}'`);
  }
  const soc = objectNewChild<RiscvHartArrayState>(s, 'soc0', TYPE_RISCV_HART_ARRAY);
  soc.cpuType = TYPE_RISCV_CPU_BASE64;
  soc.numHarts = smp;
  soc.resetvec = m.mrom.base;
  qdevRealize(soc, sysbusGetDefault());
  s.soc = soc;

  riscvAclintSwiCreate(m.clint.base, 0, smp, false);
  const mtimer = riscvAclintMtimerCreate(
    m.clint.base + RISCV_ACLINT_SWI_SIZE,
    RISCV_ACLINT_DEFAULT_MTIMER_SIZE,
    0,
    smp,
    0,
    RISCV_ACLINT_DEFAULT_MTIME,
    RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ,
  );

  const ram = MemoryRegion.ram('riscv.spike.ram', Number(s.ramSize));
  s.ram = ram;
  system.addSubregion(m.dram.base, ram);
  system.addSubregion(m.mrom.base, MemoryRegion.rom('riscv.spike.mrom', m.mrom.size));

  // Firmware and kernel; HTIF goes where their tohost/fromhost symbols are.
  const syms: Partial<HtifSymbols> = {};
  const symCb = htifSymbolCallback(syms);
  const firmwareEnd = riscvFindAndLoadFirmware(s, RISCV64_BIOS_ELF, m.dram.base, as, symCb);
  let kernelEntry = 0;
  if (s.kernelFilename) {
    kernelEntry = riscvLoadKernel(s, riscvCalcKernelStartAddr(firmwareEnd), as, symCb);
  }
  const htifAtSymbols = syms.tohost !== undefined && syms.fromhost !== undefined;
  const fdt = spikeCreateFdt(s, htifAtSymbols, s.kernelCmdline);
  s.fdt = fdt;
  if (s.kernelFilename && s.initrdFilename) riscvLoadInitrd(s, kernelEntry, as, fdt);
  const dtb = fdt.toDtb();
  riscvDumpDtbIfAsked(s, dtb);
  const fdtAddr = riscvLoadFdt(m.dram.base, Number(s.ramSize), dtb, as);
  // -bios none with -kernel: the kernel sits at DRAM base and is jumped to directly.
  riscvSetupRomResetVec(m.dram.base, m.mrom.base, m.mrom.size, kernelEntry, fdtAddr, as);

  s.htif = new HtifState(system, serialHd(0), m.htif.base, syms);
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
