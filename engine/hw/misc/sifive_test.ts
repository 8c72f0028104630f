/**
 * SiFive test finisher (QEMU's hw/misc/sifive_test.c): a 4 KiB register block whose word at offset 0
 * powers the machine off or resets it. The low 16 bits of a write select the action, the high 16
 * bits carry an exit code:
 *   0x3333 FAIL  -> the process exits with that code (QEMU calls exit(code)),
 *   0x5555 PASS  -> guest shutdown request (Linux's syscon-poweroff writes this),
 *   0x7777 RESET -> guest reset request (syscon-reboot).
 * Reads return 0. The device has no state.
 */
import { typeRegister } from '../../qom/object.js';
import { DeviceClass, qdevNew, qdevRealizeAndUnref } from '../core/qdev-core.js';
import {
  SysBusDevice,
  TYPE_SYS_BUS_DEVICE,
  sysbusInitMmio,
  sysbusMmioMap,
  sysbusGetDefault,
} from '../core/sysbus.js';
import { MemoryRegion } from '../../system/memory.js';
import { qemuSystemResetRequest, qemuSystemShutdownRequest } from '../../system/runstate.js';
import type { VMStateDescription } from '../../migration/vmstate-types.js';

export const TYPE_SIFIVE_TEST = 'riscv.sifive.test';
export const FINISHER_FAIL = 0x3333;
export const FINISHER_PASS = 0x5555;
export const FINISHER_RESET = 0x7777;

/** What FAIL does; the process exits like QEMU unless a test installs its own handler. */
let failHandler: (code: number) => void = (code) => {
  process.stdout.write('', () => process.exit(code));
};

export function setSifiveTestFailHandler(fn: ((code: number) => void) | null): void {
  failHandler = fn ?? ((code) => process.stdout.write('', () => process.exit(code)));
}

export class SiFiveTestState extends SysBusDevice {
  iomem: MemoryRegion | null = null;

  write(addr: number, val: number): void {
    if (addr !== 0) return;
    const status = val & 0xffff;
    const code = (val >>> 16) & 0xffff;
    if (status === FINISHER_FAIL) failHandler(code);
    else if (status === FINISHER_PASS) qemuSystemShutdownRequest('guest-shutdown');
    else if (status === FINISHER_RESET) qemuSystemResetRequest('guest-reset');
  }
}

export const vmstateSifiveTest: VMStateDescription = {
  name: TYPE_SIFIVE_TEST,
  versionId: 1,
  minimumVersionId: 1,
  fields: [],
};

typeRegister<SiFiveTestState, DeviceClass>({
  name: TYPE_SIFIVE_TEST,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: SiFiveTestState,
  classInit(dc) {
    dc.vmsd = vmstateSifiveTest;
  },
  instanceInit(s) {
    s.iomem = MemoryRegion.io(TYPE_SIFIVE_TEST, 0x1000, {
      read: () => 0,
      write: (a, v) => s.write(a, v),
      valid: { minAccessSize: 2, maxAccessSize: 4 },
    });
    s.iomem.owner = s;
    sysbusInitMmio(s, s.iomem);
  },
});

/** sifive_test_create(). */
export function sifiveTestCreate(addr: number): SiFiveTestState {
  const dev = qdevNew<SiFiveTestState>(TYPE_SIFIVE_TEST);
  qdevRealizeAndUnref(dev, sysbusGetDefault());
  sysbusMmioMap(dev, 0, addr);
  return dev;
}
