/**
 * What the RISC-V boards share once their devices exist: the vCPU run loop tied to the run state
 * (`cont`/`stop` start and stop it; the virtual clock follows the run state too), the reset handlers QEMU registers
 * with qemu_register_reset (rom reload after the harts reset), `info mtree/roms/registers/cpus`, and
 * `-machine dumpdtb=FILE`.
 */
import { writeFileSync } from 'node:fs';
import { CpuRunLoop } from '../../target/riscv/cpu-loop.js';
import { formatRegisters } from '../../target/riscv/cpu-dump.js';
import { addVmChangeStateHandler } from '../../system/runstate.js';
import { registerHmpInfo } from '../../monitor/hmp.js';
import { onQomRootReset } from '../../qom/object.js';
import { errorSetg } from '../../qapi/error.js';
import { formatInfoRoms, romCheckOverlap, romReset } from '../core/loader.js';
import type { MachineState } from '../core/machine.js';
import { cpuList, type RiscvCpuState } from './riscv_hart.js';
import { formatInfoMtree } from './machine-memory.js';
import { virtualClockFollowRunState } from '../../system/virtual-clock.js';
import { FDT_MAX_SIZE } from './boot.js';
import { DumpDtbExit } from '../../system/device-tree.js';

/** Something that wants a call before every run slice and can report its next deadline (timers). */
export interface TimerDevice {
  poll(): void;
  nextDeadlineMs(): number;
}

let loop: CpuRunLoop | null = null;
let unhookRunState: (() => void) | null = null;
const resetHandlers: Array<() => void> = [];

/** qemu_register_reset(): run at every machine reset, after the harts were reset. */
export function qemuRegisterReset(fn: () => void): void {
  resetHandlers.push(fn);
}

/** Called by the hart array's reset (the harts are on no bus; QEMU resets them from a reset handler too). */
export function runResetHandlers(): void {
  for (const fn of resetHandlers) fn();
}

export function currentRunLoop(): CpuRunLoop | null {
  return loop;
}

/**
 * Finish a board: load the roms (checking for overlaps), create the run loop over every hart, and
 * let the run state drive it.
 */
export function riscvMachineFinish(
  harts: readonly RiscvCpuState[],
  timers: readonly TimerDevice[],
): CpuRunLoop {
  romCheckOverlap();
  romReset();
  qemuRegisterReset(romReset);
  const l = new CpuRunLoop(harts.map((h) => h.core!));
  l.beforeSlice = () => {
    for (const t of timers) t.poll();
  };
  for (const t of timers) l.addDeadlineSource(() => t.nextDeadlineMs());
  loop = l;
  // The clock's own handler may have been dropped with the run state's (tests build many machines).
  virtualClockFollowRunState();
  unhookRunState = addVmChangeStateHandler((running) => (running ? l.start() : l.stop()));
  return l;
}

/** qemu_fdt_dumpdtb(): write the blob (in QEMU's 1 MiB buffer) and tell vl to exit. */
export function riscvDumpDtbIfAsked(machine: MachineState, dtb: Uint8Array): void {
  if (!machine.dumpdtb) return;
  const buf = new Uint8Array(Math.max(FDT_MAX_SIZE, dtb.length));
  buf.set(dtb);
  try {
    writeFileSync(machine.dumpdtb, buf);
  } catch (e) {
    throw errorSetg(`Failed to write dtb to ${machine.dumpdtb}: ${(e as Error).message}`);
  }
  throw new DumpDtbExit(machine.dumpdtb);
}

function infoRegisters(args: string): string {
  const a = args.trim();
  const all = cpuList();
  if (a === '-a') return all.map((c) => formatRegisters(c.core!) + '\n').join('');
  const idx = a === '' ? 0 : Number(a);
  const cpu = all[idx];
  if (!cpu) return a === '' ? '' : `CPU#${a} not available\n`;
  return formatRegisters(cpu.core!) + '\n';
}

function infoCpus(): string {
  return cpuList()
    .map((c, i) => `${i === 0 ? '*' : ' '} CPU #${c.cpuIndex}: thread_id=${process.pid}\n`)
    .join('');
}

registerHmpInfo(
  'mtree',
  'show memory tree (-f: dump flat view for address spaces;-d: dump dispatch tree, valid with -f only);-o: dump region owners/parents;-D: dump disabled regions',
  () => formatInfoMtree(),
  '[-f][-d][-o][-D]',
);
registerHmpInfo('roms', 'show roms', () => formatInfoRoms());
registerHmpInfo(
  'registers',
  "show the cpu registers (-a: show register info for all cpus; vcpu: specific vCPU to query; show the current CPU's registers if no argument is specified)",
  (args) => infoRegisters(args),
  '[-a|vcpu]',
);
registerHmpInfo('cpus', 'show infos for each CPU', () => infoCpus());

onQomRootReset(() => {
  loop?.stop();
  loop = null;
  unhookRunState?.();
  unhookRunState = null;
  resetHandlers.length = 0;
});
