/**
 * Board set-up the RISC-V machines (spike, virt) share, in the order their init functions call it:
 * the hart array /machine/soc0, the CLINT (ACLINT MSWI + MTIMER), RAM and the mask ROM, and the boot
 * sequence of QEMU's hw/riscv/boot.c (firmware, kernel, device tree, initrd, reset vector).
 */
import { objectNewChild } from '../../qom/object.js';
import { errorSetg } from '../../qapi/error.js';
import type { MachineState } from '../core/machine.js';
import { qdevRealize } from '../core/qdev-core.js';
import { sysbusGetDefault } from '../core/sysbus.js';
import { MemoryRegion } from '../../system/memory.js';
import type { Fdt } from '../../system/device-tree.js';
import { RiscvHartArrayState, TYPE_RISCV_CPU_BASE64, TYPE_RISCV_HART_ARRAY } from './riscv_hart.js';
import { addressSpaceMemory, getSystemMemory } from './machine-memory.js';
import {
  RISCV_ACLINT_DEFAULT_MTIME,
  RISCV_ACLINT_DEFAULT_MTIMECMP,
  RISCV_ACLINT_DEFAULT_MTIMER_SIZE,
  RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ,
  RISCV_ACLINT_SWI_SIZE,
  riscvAclintMtimerCreate,
  riscvAclintSwiCreate,
  type RiscvAclintMtimerState,
} from '../intc/riscv_aclint.js';
import {
  riscvCalcKernelStartAddr,
  riscvFindAndLoadFirmware,
  riscvLoadFdt,
  riscvLoadInitrd,
  riscvLoadKernel,
  riscvSetupRomResetVec,
} from './boot.js';
import { riscvDumpDtbIfAsked } from './riscv-machine.js';

/** A region of the board's memory map. */
export interface MemMapEntry {
  readonly base: number;
  readonly size: number;
}

/**
 * The harts: /machine/soc0, a hart array of `-smp` rv64 harts (ids from 0) that start at
 * `resetvec`. Only the rv64 CPU model exists.
 */
export function riscvBoardCreateHarts(s: MachineState, resetvec: number): RiscvHartArrayState {
  if (s.cpuType && s.cpuType !== TYPE_RISCV_CPU_BASE64) {
    throw errorSetg(`unable to find CPU model '${s.cpuType.replace(/-riscv-cpu$/, '')}'`);
  }
  const soc = objectNewChild<RiscvHartArrayState>(s, 'soc0', TYPE_RISCV_HART_ARRAY);
  soc.cpuType = TYPE_RISCV_CPU_BASE64;
  soc.hartidBase = 0;
  soc.numHarts = s.smp.cpus;
  soc.resetvec = resetvec;
  qdevRealize(soc, sysbusGetDefault());
  return soc;
}

/** The CLINT at `base`: MSWI, then MTIMER right after it, for harts 0..numHarts-1. */
export function riscvBoardCreateClint(base: number, numHarts: number): RiscvAclintMtimerState {
  riscvAclintSwiCreate(base, 0, numHarts, false);
  return riscvAclintMtimerCreate(
    base + RISCV_ACLINT_SWI_SIZE,
    RISCV_ACLINT_DEFAULT_MTIMER_SIZE,
    0,
    numHarts,
    RISCV_ACLINT_DEFAULT_MTIMECMP,
    RISCV_ACLINT_DEFAULT_MTIME,
    RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ,
  );
}

/** RAM (`-m`, named `ramId`) at `dram`, then the mask ROM `mromId` at `mrom`, in "system". */
export function riscvBoardCreateMemory(
  s: MachineState,
  ramId: string,
  dram: MemMapEntry,
  mromId: string,
  mrom: MemMapEntry,
): { ram: MemoryRegion; mrom: MemoryRegion } {
  const system = getSystemMemory();
  const ram = MemoryRegion.ram(ramId, Number(s.ramSize));
  s.ram = ram;
  system.addSubregion(dram.base, ram);
  const rom = MemoryRegion.rom(mromId, mrom.size);
  system.addSubregion(mrom.base, rom);
  return { ram, mrom: rom };
}

export interface RiscvBoardBoot {
  /** The firmware `-bios default` (or no -bios) loads. */
  defaultFirmware: string;
  dram: MemMapEntry;
  mrom: MemMapEntry;
  /** Sees the symbols of ELF firmware and kernels (spike puts HTIF at tohost/fromhost). */
  symCb?: (name: string, addr: number) => void;
  /** The device tree, asked for once firmware and kernel are loaded (spike's depends on their symbols). */
  fdt: () => Fdt;
  /** virt refuses -initrd without -kernel; spike ignores the initrd then. */
  initrdNeedsKernel: boolean;
}

/**
 * Load firmware at the start of RAM, the kernel after it, then the initrd (announced in the device
 * tree), the DTB (or dump it for `dumpdtb=`) and the reset vector with fw_dynamic_info in the ROM.
 */
export function riscvBoardBoot(s: MachineState, boot: RiscvBoardBoot): void {
  const as = addressSpaceMemory();
  const startAddr = boot.dram.base;
  const firmwareEnd = riscvFindAndLoadFirmware(s, boot.defaultFirmware, startAddr, as, boot.symCb);
  let kernelEntry = 0;
  if (s.kernelFilename) {
    kernelEntry = riscvLoadKernel(s, riscvCalcKernelStartAddr(firmwareEnd), as, boot.symCb);
  }
  const fdt = boot.fdt();
  if (s.kernelFilename && s.initrdFilename) riscvLoadInitrd(s, kernelEntry, as, fdt);
  else if (s.initrdFilename && boot.initrdNeedsKernel) throw errorSetg('-initrd needs -kernel');
  const dtb = fdt.toDtb();
  riscvDumpDtbIfAsked(s, dtb);
  const fdtAddr = riscvLoadFdt(boot.dram.base, Number(s.ramSize), dtb, as);
  riscvSetupRomResetVec(startAddr, boot.mrom.base, boot.mrom.size, kernelEntry, fdtAddr, as);
}
