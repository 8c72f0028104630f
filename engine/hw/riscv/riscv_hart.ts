/**
 * The harts as QOM devices (QEMU's target/riscv/cpu.c type registration and hw/riscv/riscv_hart.c):
 *
 * - "cpu" (abstract, TYPE_CPU) > "riscv-cpu" (abstract) > "rv64-riscv-cpu": a device wrapping the
 *   interpreter core (engine/target/riscv/cpu.ts `RiscvCpu`). It has QEMU's 79 unnamed GPIO inputs
 *   (local interrupts 0..15 plus the guest-external ones), which drive the core's mip bits.
 * - "riscv.hart_array": a sysbus device owning harts "harts[N]" with consecutive hart ids, created by
 *   the boards as /machine/soc0.
 *
 * CPUs are registered in creation order (QEMU's CPU_FOREACH list): cpuByArchId() finds a hart by
 * mhartid for the interrupt controllers, qmpQueryCpusFast() lists them.
 */
import type { QomObject } from '../../qom/object.js';
import {
  typeRegister,
  objectCheck,
  objectNewChild,
  objectGetCanonicalPath,
  onQomRootReset,
} from '../../qom/object.js';
import { DeviceClass, DeviceState, TYPE_DEVICE, qdevInitGpioIn, qdevRealize } from '../core/qdev-core.js';
import {
  deviceClassSetProps,
  definePropString,
  definePropUint32,
  definePropUint64,
} from '../core/qdev-properties.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { errorSetg } from '../../qapi/error.js';
import { RiscvCpu } from '../../target/riscv/cpu.js';
import type { VMStateDescription } from '../../migration/vmstate-types.js';
import { vmstateRiscvCpu } from '../../target/riscv/machine.js';
import type { CpuInfoFast } from '../../qapi/generated/qapi-types.js';
import { cpuAddressSpace } from './machine-memory.js';
import { runResetHandlers } from './riscv-machine.js';

export const TYPE_CPU = 'cpu';
export const TYPE_RISCV_CPU = 'riscv-cpu';
export const TYPE_RISCV_CPU_BASE64 = 'rv64-riscv-cpu';
export const TYPE_RISCV_HART_ARRAY = 'riscv.hart_array';

/** IRQ_LOCAL_MAX + IRQ_LOCAL_GUEST_MAX in QEMU 7.2. */
export const RISCV_CPU_GPIO_IN = 79;
const IRQ_LOCAL_MAX = 16;

export class CpuClass extends DeviceClass {}

/** One hart (RISCVCPU). `core` exists from realize on. */
export class RiscvCpuState extends DeviceState {
  hartid = 0;
  resetvec: number | bigint = 0x1000;
  cpuIndex = -1;
  core: RiscvCpu | null = null;
}

export const RISCV_CPU = (o: QomObject) => objectCheck<RiscvCpuState>(o, TYPE_RISCV_CPU);

const cpus: RiscvCpuState[] = [];

/** CPU_FOREACH. */
export function cpuList(): readonly RiscvCpuState[] {
  return cpus;
}

/** cpu_by_arch_id(): the hart with this mhartid. */
export function cpuByArchId(hartid: number): RiscvCpuState | null {
  return cpus.find((c) => c.hartid === hartid) ?? null;
}

onQomRootReset(() => {
  for (const c of cpus) c.core?.destroy();
  cpus.length = 0;
});

typeRegister<DeviceState, CpuClass>({
  name: TYPE_CPU,
  parent: TYPE_DEVICE,
  abstract: true,
  class: CpuClass,
  classInit(dc) {
    dc.categories.add('cpu');
    dc.userCreatable = false;
  },
});

typeRegister<RiscvCpuState, CpuClass>({
  name: TYPE_RISCV_CPU,
  parent: TYPE_CPU,
  abstract: true,
  instance: RiscvCpuState,
  classInit(dc) {
    deviceClassSetProps(dc, [definePropUint64('resetvec', 'resetvec', 0x1000)]);
    // The hart's state: QEMU's "cpu" section (target/riscv/machine.ts).
    dc.vmsd = vmstateRiscvCpu;
    dc.realize = (dev) => {
      const cpu = dev as RiscvCpuState;
      cpu.cpuIndex = cpus.length;
      cpu.core = new RiscvCpu({
        hartid: cpu.hartid,
        resetvec: Number(cpu.resetvec),
        as: cpuAddressSpace(cpu.cpuIndex),
      });
      cpus.push(cpu);
    };
    dc.reset = (dev) => (dev as RiscvCpuState).core?.reset();
  },
  instanceInit(cpu) {
    // riscv_cpu_init(): local and guest-external interrupt lines into mip.
    qdevInitGpioIn(
      cpu,
      (_opaque, n, level) => {
        if (n < IRQ_LOCAL_MAX) cpu.core?.setIrqLine(n, level !== 0);
      },
      RISCV_CPU_GPIO_IN,
    );
  },
});

typeRegister({ name: TYPE_RISCV_CPU_BASE64, parent: TYPE_RISCV_CPU });

/** query-cpus-fast entries for the harts. */
export function qmpQueryCpusFast(): CpuInfoFast[] {
  return cpus.map((c) => ({
    'cpu-index': c.cpuIndex,
    'qom-path': objectGetCanonicalPath(c) ?? '',
    'thread-id': process.pid,
    props: { 'core-id': c.hartid, 'socket-id': 0 },
    target: 'riscv64',
  }));
}

// ---------------------------------------------------------------------------------------------
// riscv.hart_array

export class RiscvHartArrayState extends SysBusDevice {
  numHarts = 0;
  hartidBase = 0;
  cpuType: string | null = null;
  resetvec: number | bigint = 0x1000;
  harts: RiscvCpuState[] = [];
}

typeRegister<RiscvHartArrayState, DeviceClass>({
  name: TYPE_RISCV_HART_ARRAY,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: RiscvHartArrayState,
  classInit(dc) {
    deviceClassSetProps(dc, [
      definePropUint32('num-harts', 'numHarts', 0),
      definePropUint32('hartid-base', 'hartidBase', 0),
      definePropString('cpu-type', 'cpuType'),
      definePropUint64('resetvec', 'resetvec', 0x1000),
    ]);
    // The harts carry the state; the array itself has none (QEMU: no vmsd either).
    dc.vmsd = {
      name: TYPE_RISCV_HART_ARRAY,
      versionId: 1,
      minimumVersionId: 1,
      fields: [],
    } satisfies VMStateDescription;
    dc.realize = (dev) => {
      const s = dev as RiscvHartArrayState;
      if (!s.cpuType) throw errorSetg('riscv.hart_array: cpu-type not set');
      for (let i = 0; i < s.numHarts; i++) {
        const cpu = objectNewChild<RiscvCpuState>(s, `harts[${i}]`, s.cpuType);
        cpu.resetvec = s.resetvec;
        cpu.hartid = s.hartidBase + i;
        qdevRealize(cpu, null);
        s.harts.push(cpu);
      }
    };
    // QEMU resets harts through qemu_register_reset(riscv_harts_cpu_reset); they are on no bus.
    // The board's other reset handlers (rom reload) run after them, as they were registered later.
    dc.reset = (dev) => {
      for (const h of (dev as RiscvHartArrayState).harts) h.core?.reset();
      runResetHandlers();
    };
  },
});
