/**
 * Booting RISC-V boards (QEMU 7.2's hw/riscv/boot.c): firmware, kernel, initrd and device tree
 * placement, and the reset vector in the mask ROM.
 *
 * The sequence a board runs (virt_machine_done):
 *   1. firmware (`-bios`, default OpenSBI fw_dynamic) at the start of RAM; it ends at `firmwareEnd`;
 *   2. the kernel (`-kernel`, ELF or flat Image) at firmwareEnd rounded up to 2 MiB (rv64);
 *   3. the initrd at kernel + min(RAM/2, 128 MiB), announced in /chosen linux,initrd-start/-end;
 *   4. the DTB at the highest 2 MiB-aligned address that leaves 1 MiB below min(RAM end, 3 GiB);
 *   5. the reset vector at the ROM base, followed by the fw_dynamic_info OpenSBI reads:
 *        auipc t0, 0; addi a2, t0, 0x28; csrr a0, mhartid; ld a1, 32(t0); ld t0, 24(t0); jr t0;
 *        .dword start_addr; .dword fdt_addr; then { magic "OSBI", version 2, next_addr = kernel entry,
 *        next_mode = S, options 0, boot_hart 0 }.
 * Everything is registered as roms, so a reset reloads it (hw/core/loader.ts).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorSetg } from '../../qapi/error.js';
import type { MachineState } from '../core/machine.js';
import type { AddressSpace } from '../../system/memory.js';
import { EM_RISCV, loadElf, loadImageTargphys, romAddBlobFixed } from '../core/loader.js';
import type { Fdt } from '../../system/device-tree.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export const FW_DYNAMIC_INFO_MAGIC_VALUE = 0x4942534f;
export const FW_DYNAMIC_INFO_VERSION = 2;
export const FW_DYNAMIC_INFO_NEXT_MODE_S = 1;
/** QEMU's FDT buffer size; the DTB's rom and the placement computation use it. */
export const FDT_MAX_SIZE = 0x100000;
export const RISCV64_BIOS_BIN = 'opensbi-riscv64-generic-fw_dynamic.bin';

const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;
const alignDown = (v: number, a: number) => Math.floor(v / a) * a;

/** Directories searched for firmware by name (QEMU's data directories, qemu_find_file). */
export function firmwareSearchPath(): string[] {
  const dirs: string[] = [];
  if (process.env['VMSTUDIO_FIRMWARE_DIR']) dirs.push(process.env['VMSTUDIO_FIRMWARE_DIR']);
  // The default guest's build cache: <repo>/.cache/guests/debian-riscv64/builds/<newest>/.
  for (let d = dirname(fileURLToPath(import.meta.url)); dirname(d) !== d; d = dirname(d)) {
    if (!existsSync(join(d, 'package.json'))) continue;
    const builds = join(d, '.cache', 'guests', 'debian-riscv64', 'builds');
    if (existsSync(builds)) {
      const list = readdirSync(builds)
        .map((n) => join(builds, n))
        .filter((p) => existsSync(join(p, 'fw_dynamic.bin')))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
      dirs.push(...list);
    }
    break;
  }
  dirs.push('/usr/share/qemu');
  return dirs;
}

/** riscv_find_firmware(): a path as given, or a name found in the search path. */
export function riscvFindFirmware(name: string): string {
  if (existsSync(name) && statSync(name).isFile()) return name;
  if (!name.includes('/')) {
    for (const dir of firmwareSearchPath()) {
      for (const cand of name === RISCV64_BIOS_BIN ? [name, 'fw_dynamic.bin'] : [name]) {
        const p = join(dir, cand);
        if (existsSync(p)) return p;
      }
    }
  }
  throw errorSetg(`Unable to load the RISC-V firmware "${name}"`);
}

/** riscv_load_firmware(): ELF (returns its end) or raw at `loadAddr`. */
export function riscvLoadFirmware(
  filename: string,
  loadAddr: number,
  as: AddressSpace,
  maxSize: number,
  symCb?: (name: string, addr: number) => void,
): number {
  const elf = loadElf(filename, as, { machine: EM_RISCV, symCb });
  if (elf) return elf.highAddr;
  const size = loadImageTargphys(filename, loadAddr, maxSize, as);
  if (size > 0) return loadAddr + size;
  throw errorSetg(`could not load firmware '${filename}'`);
}

/** riscv_find_and_load_firmware(): `-bios` default/none/path. Returns the firmware's end address. */
export function riscvFindAndLoadFirmware(
  machine: MachineState,
  defaultName: string,
  loadAddr: number,
  as: AddressSpace,
  symCb?: (name: string, addr: number) => void,
): number {
  const fw = machine.firmware;
  let filename: string | null = null;
  if (!fw || fw === 'default') filename = riscvFindFirmware(defaultName);
  else if (fw !== 'none') filename = riscvFindFirmware(fw);
  if (!filename) return loadAddr;
  return riscvLoadFirmware(filename, loadAddr, as, Number(machine.ramSize), symCb);
}

/** riscv_calc_kernel_start_addr(): 2 MiB alignment for rv64 (Linux's requirement). */
export function riscvCalcKernelStartAddr(firmwareEnd: number): number {
  return alignUp(firmwareEnd, 2 * MiB);
}

/** riscv_load_kernel(): ELF (entry = lowest load address, as QEMU 7.2) or a raw Image. */
export function riscvLoadKernel(
  machine: MachineState,
  kernelStartAddr: number,
  as: AddressSpace,
  symCb?: (name: string, addr: number) => void,
): number {
  const filename = machine.kernelFilename!;
  const elf = loadElf(filename, as, { machine: EM_RISCV, symCb });
  if (elf) return elf.lowAddr;
  if (loadImageTargphys(filename, kernelStartAddr, Number(machine.ramSize), as) > 0) return kernelStartAddr;
  throw errorSetg(`could not load kernel '${filename}'`);
}

/** riscv_load_initrd(): returns [start, end) and records them in /chosen. */
export function riscvLoadInitrd(
  machine: MachineState,
  kernelEntry: number,
  as: AddressSpace,
  fdt: Fdt | null,
): [number, number] {
  const filename = machine.initrdFilename!;
  const memSize = Number(machine.ramSize);
  const start = kernelEntry + Math.min(memSize / 2, 128 * MiB);
  const size = loadImageTargphys(filename, start, Number.MAX_SAFE_INTEGER, as);
  if (size < 0) throw errorSetg(`could not load ramdisk '${filename}'`);
  const end = start + size;
  if (fdt) {
    fdt.setpropCell('/chosen', 'linux,initrd-start', start);
    fdt.setpropCell('/chosen', 'linux,initrd-end', end);
  }
  return [start, end];
}

/** Where riscv_load_fdt() puts the DTB. */
export function riscvComputeFdtAddr(dramBase: number, memSize: number): number {
  const dramEnd = dramBase + memSize;
  const temp = dramBase < 3 * GiB ? Math.min(dramEnd, 3 * GiB) : dramEnd;
  return alignDown(temp - FDT_MAX_SIZE, 2 * MiB);
}

/** riscv_load_fdt(): register the blob as rom "fdt" (1 MiB, as QEMU's buffer) and return its address. */
export function riscvLoadFdt(dramBase: number, memSize: number, dtb: Uint8Array, as: AddressSpace): number {
  const addr = riscvComputeFdtAddr(dramBase, memSize);
  if (dtb.length > FDT_MAX_SIZE) throw errorSetg('not enough space to store device-tree');
  romAddBlobFixed('fdt', dtb, addr, as, FDT_MAX_SIZE);
  return addr;
}

/** The 10 words of QEMU's rv64 reset vector (fdt/start addresses filled in). */
export function riscvResetVecWords(startAddr: number, fdtAddr: number): Uint32Array {
  return Uint32Array.from([
    0x00000297, // 1: auipc t0, %pcrel_hi(fw_dyn)
    0x02828613, //    addi  a2, t0, %pcrel_lo(1b)
    0xf1402573, //    csrr  a0, mhartid
    0x0202b583, //    ld    a1, 32(t0)
    0x0182b283, //    ld    t0, 24(t0)
    0x00028067, //    jr    t0
    startAddr >>> 0, // start: .dword
    Math.floor(startAddr / 2 ** 32) >>> 0,
    fdtAddr >>> 0, // fdt_laddr: .dword
    Math.floor(fdtAddr / 2 ** 32) >>> 0,
  ]);
}

/** struct fw_dynamic_info (64-bit fields). */
export function fwDynamicInfo(kernelEntry: number): Uint8Array {
  const out = new Uint8Array(48);
  const dv = new DataView(out.buffer);
  const fields = [
    FW_DYNAMIC_INFO_MAGIC_VALUE,
    FW_DYNAMIC_INFO_VERSION,
    kernelEntry,
    FW_DYNAMIC_INFO_NEXT_MODE_S,
    0,
    0,
  ];
  fields.forEach((v, i) => dv.setBigUint64(i * 8, BigInt(v), true));
  return out;
}

/** riscv_setup_rom_reset_vec(): "mrom.reset" then "mrom.finfo" right after it. */
export function riscvSetupRomResetVec(
  startAddr: number,
  romBase: number,
  romSize: number,
  kernelEntry: number,
  fdtAddr: number,
  as: AddressSpace,
): void {
  const vec = riscvResetVecWords(startAddr, fdtAddr);
  const bytes = new Uint8Array(vec.buffer);
  const finfo = fwDynamicInfo(kernelEntry);
  if (bytes.length + finfo.length > romSize)
    throw errorSetg('not enough space to store dynamic firmware info');
  romAddBlobFixed('mrom.reset', bytes, romBase, as);
  romAddBlobFixed('mrom.finfo', finfo, romBase + bytes.length, as);
}
