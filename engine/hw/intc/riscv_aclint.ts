/**
 * RISC-V ACLINT (QEMU's hw/intc/riscv_aclint.c), the two halves of the SiFive CLINT on `virt`/`spike`:
 *
 * - "riscv.aclint.swi" (MSWI): one 32-bit MSIP register per hart at hart*4; bit 0 drives the hart's
 *   machine software interrupt. The bit lives in the hart's mip (as in QEMU), so this device has no
 *   state of its own.
 * - "riscv.aclint.mtimer": mtimecmp per hart at timecmp-base + hart*8 and mtime at time-base, 64-bit
 *   registers accessible as 32 or 64 bits. mtime counts at timebase-freq (10 MHz) from the virtual
 *   clock (host monotonic time that stops while the VM is stopped) plus an offset that mtime writes
 *   adjust. A hart's MTIP output is high while mtime >= mtimecmp. The mtimer is also every hart's
 *   TimeSource (the `time` CSR, Sstc and WFI sleeps), like QEMU's rdtime_fn.
 *
 * Timer interrupts without host timers: `poll()` (the run loop calls it before every slice) raises the
 * lines whose compare value has passed, and `nextDeadlineMs()` tells a sleeping run loop when to wake.
 */
import type { QomObject } from '../../qom/object.js';
import { typeRegister, objectCheck } from '../../qom/object.js';
import { DeviceClass, qdevConnectGpioOut, qdevGetGpioIn, qdevNew } from '../core/qdev-core.js';
import { deviceClassSetProps, definePropUint32 } from '../core/qdev-properties.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { type IRQState, qemuSetIrq } from '../core/irq.js';
import { type MemoryRegion, io64 } from '../../system/memory.js';
import { errorSetg } from '../../qapi/error.js';
import type { VMStateDescription } from '../../migration/vmstate-types.js';
import type { TimeSource } from '../../target/riscv/cpu.js';
import { IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_SOFT, MIP_MSIP } from '../../target/riscv/cpu-state.js';
import { cpuByArchId } from '../riscv/riscv_hart.js';
import { intcInitGpioOut, intcInitMmio, intcRealizeAndWire } from './intc-device.js';
import { virtualClock } from '../../system/virtual-clock.js';

export const TYPE_RISCV_ACLINT_SWI = 'riscv.aclint.swi';
export const TYPE_RISCV_ACLINT_MTIMER = 'riscv.aclint.mtimer';

export const RISCV_ACLINT_SWI_SIZE = 0x4000;
export const RISCV_ACLINT_DEFAULT_MTIMECMP = 0x0;
export const RISCV_ACLINT_DEFAULT_MTIME = 0x7ff8;
export const RISCV_ACLINT_DEFAULT_MTIMER_SIZE = 0x8000;
export const RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ = 10_000_000;
export const RISCV_ACLINT_MAX_HARTS = 4095;

const TWO32 = 4294967296;

/** Both halves refuse a hart count QEMU refuses. */
function checkNumHarts(numHarts: number): void {
  if (numHarts === 0 || numHarts > RISCV_ACLINT_MAX_HARTS) throw errorSetg(`invalid num-harts ${numHarts}`);
}

// ---------------------------------------------------------------------------------------------
// MTIMER

export class RiscvAclintMtimerState extends SysBusDevice implements TimeSource {
  hartidBase = 0;
  numHarts = 1;
  timecmpBase = RISCV_ACLINT_DEFAULT_MTIMECMP;
  timeBase = RISCV_ACLINT_DEFAULT_MTIME;
  apertureSize = RISCV_ACLINT_DEFAULT_MTIMER_SIZE;
  timebaseFreq = RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ;
  /** mtimecmp per hart as (lo, hi) uint32 pairs. */
  timecmp = new Uint32Array(2);
  /** Length of `timecmp` in words, saved before it (VMState varray). */
  timecmpWords = 2;
  /** mtime minus the clock-derived count (mtime writes change it). */
  timeDelta = 0;
  /** mtime when the state was saved; loading makes mtime continue from it. */
  savedMtime = 0;
  timerIrqs: (IRQState | null)[] = [];
  /** Line levels last driven, so poll() only signals changes. */
  levels = new Uint8Array(1);
  iomem: MemoryRegion | null = null;

  get frequency(): number {
    return this.timebaseFreq;
  }

  /** Clock-derived count: virtual ns scaled to the timebase (muldiv64 in QEMU). */
  private rawTicks(): number {
    return Math.floor((virtualClock.ns() * this.timebaseFreq) / 1e9);
  }

  /** cpu_riscv_read_rtc(): current mtime. */
  ticks(): number {
    return this.rawTicks() + this.timeDelta;
  }

  private cmp(i: number): number {
    return this.timecmp[2 * i + 1]! * TWO32 + this.timecmp[2 * i]!;
  }

  private setLine(i: number, level: number): void {
    if (this.levels[i] === level) return;
    this.levels[i] = level;
    qemuSetIrq(this.timerIrqs[i] ?? null, level);
  }

  /** riscv_aclint_mtimer_write_timecmp() minus the host timer: re-evaluate hart i's line. */
  update(i: number, now = this.ticks()): void {
    this.setLine(i, this.cmp(i) <= now ? 1 : 0);
  }

  /** Raise the lines of harts whose mtimecmp has been reached (called before each run slice). */
  poll(): void {
    const now = this.ticks();
    for (let i = 0; i < this.numHarts; i++) if (!this.levels[i]) this.update(i, now);
  }

  /** Host ms (performance.now()) of the earliest pending compare, Infinity if none. */
  nextDeadlineMs(): number {
    let best = Infinity;
    const now = this.ticks();
    for (let i = 0; i < this.numHarts; i++) {
      if (this.levels[i]) continue;
      const c = this.cmp(i);
      if (c < best) best = c;
    }
    if (best === Infinity || best >= 2 ** 63) return Infinity;
    const ns = virtualClock.ns() + ((best - now) * 1e9) / this.timebaseFreq;
    return virtualClock.hostMsAt(Math.ceil(ns));
  }

  read(addr: number, size: number): number {
    io64.hi = 0;
    const tb = this.timecmpBase;
    if (addr >= tb && addr < tb + this.numHarts * 8) {
      const i = (addr - tb) >>> 3;
      const lo = this.timecmp[2 * i]!;
      const hi = this.timecmp[2 * i + 1]!;
      if ((addr & 7) === 4) return size === 4 ? hi : 0;
      if (size === 8) io64.hi = hi;
      return lo;
    }
    if (addr === this.timeBase || addr === this.timeBase + 4) {
      const t = this.ticks();
      const lo = (t % TWO32) >>> 0;
      const hi = Math.floor(t / TWO32) >>> 0;
      if (addr === this.timeBase + 4) return size === 4 ? hi : 0;
      if (size === 8) io64.hi = hi;
      return lo;
    }
    return 0;
  }

  write(addr: number, value: number, size: number, hi: number): void {
    const tb = this.timecmpBase;
    if (addr >= tb && addr < tb + this.numHarts * 8) {
      const i = (addr - tb) >>> 3;
      if ((addr & 7) === 4) {
        if (size === 4) this.timecmp[2 * i + 1] = value;
      } else {
        this.timecmp[2 * i] = value;
        if (size === 8) this.timecmp[2 * i + 1] = hi;
      }
      this.update(i);
      return;
    }
    if (addr === this.timeBase || addr === this.timeBase + 4) {
      const now = this.ticks();
      let lo = (now % TWO32) >>> 0;
      let h = Math.floor(now / TWO32) >>> 0;
      if (addr === this.timeBase + 4) {
        if (size === 4) h = value >>> 0;
      } else {
        lo = value >>> 0;
        if (size === 8) h = hi >>> 0;
      }
      this.timeDelta = h * TWO32 + lo - this.rawTicks();
      for (let i = 0; i < this.numHarts; i++) this.update(i);
    }
  }
}

export const RISCV_ACLINT_MTIMER = (o: QomObject) =>
  objectCheck<RiscvAclintMtimerState>(o, TYPE_RISCV_ACLINT_MTIMER);

export const vmstateRiscvMtimer: VMStateDescription = {
  name: 'riscv_mtimer',
  versionId: 1,
  minimumVersionId: 1,
  fields: [
    { name: 'timecmpWords', kind: 'uint32' },
    { name: 'timecmp', kind: 'varray', elem: 'uint32', lengthField: 'timecmpWords' },
    { name: 'savedMtime', kind: 'uint64' },
  ],
  preSave(s: RiscvAclintMtimerState) {
    s.savedMtime = s.ticks();
  },
  postLoad(s: RiscvAclintMtimerState) {
    if (s.timecmpWords !== s.numHarts * 2) throw errorSetg('riscv_mtimer: hart count mismatch');
    s.timeDelta = Number(s.savedMtime) - (s.ticks() - s.timeDelta);
    // Re-drive every MTIP line from the restored compare values.
    s.levels.fill(2);
    for (let i = 0; i < s.numHarts; i++) s.update(i);
  },
};

typeRegister<RiscvAclintMtimerState, DeviceClass>({
  name: TYPE_RISCV_ACLINT_MTIMER,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: RiscvAclintMtimerState,
  classInit(dc) {
    deviceClassSetProps(dc, [
      definePropUint32('hartid-base', 'hartidBase', 0),
      definePropUint32('num-harts', 'numHarts', 1),
      definePropUint32('timecmp-base', 'timecmpBase', RISCV_ACLINT_DEFAULT_MTIMECMP),
      definePropUint32('time-base', 'timeBase', RISCV_ACLINT_DEFAULT_MTIME),
      definePropUint32('aperture-size', 'apertureSize', RISCV_ACLINT_DEFAULT_MTIMER_SIZE),
      definePropUint32('timebase-freq', 'timebaseFreq', RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ),
    ]);
    dc.vmsd = vmstateRiscvMtimer;
    dc.realize = (dev) => {
      const s = dev as RiscvAclintMtimerState;
      checkNumHarts(s.numHarts);
      s.iomem = intcInitMmio(s, TYPE_RISCV_ACLINT_MTIMER, s.apertureSize, 8, s);
      s.timerIrqs = intcInitGpioOut(s, s.numHarts);
      s.timecmp = new Uint32Array(s.numHarts * 2);
      s.timecmpWords = s.numHarts * 2;
      s.levels = new Uint8Array(s.numHarts);
    };
    dc.reset = (dev) => {
      // QEMU 7.2 keeps mtimecmp across reset; firmware programs it before enabling MTIE.
      const s = dev as RiscvAclintMtimerState;
      for (let i = 0; i < s.numHarts; i++) s.update(i);
    };
  },
});

// ---------------------------------------------------------------------------------------------
// SWI (MSWI / SSWI)

export class RiscvAclintSwiState extends SysBusDevice {
  hartidBase = 0;
  numHarts = 1;
  /** Non-zero: an SSWI (supervisor software interrupts, write-1-to-set). */
  sswi = 0;
  softIrqs: (IRQState | null)[] = [];
  iomem: MemoryRegion | null = null;

  read(addr: number): number {
    if (this.sswi || addr >= this.numHarts * 4 || addr & 3) return 0;
    const cpu = cpuByArchId(this.hartidBase + (addr >>> 2));
    return cpu?.core && cpu.core.readMip() & MIP_MSIP ? 1 : 0;
  }

  write(addr: number, value: number): void {
    if (addr >= this.numHarts * 4 || addr & 3) return;
    const i = addr >>> 2;
    if (this.sswi) {
      // SSWI: writing 1 sets SSIP (edge); 0 is ignored.
      if (value & 1) qemuSetIrq(this.softIrqs[i] ?? null, 1);
    } else {
      qemuSetIrq(this.softIrqs[i] ?? null, value & 1);
    }
  }
}

typeRegister<RiscvAclintSwiState, DeviceClass>({
  name: TYPE_RISCV_ACLINT_SWI,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: RiscvAclintSwiState,
  classInit(dc) {
    deviceClassSetProps(dc, [
      definePropUint32('hartid-base', 'hartidBase', 0),
      definePropUint32('num-harts', 'numHarts', 1),
      definePropUint32('sswi', 'sswi', 0),
    ]);
    // MSIP lives in the harts' mip, saved with them.
    dc.vmsd = {
      name: 'riscv_aclint_swi',
      versionId: 1,
      minimumVersionId: 1,
      fields: [],
    } satisfies VMStateDescription;
    dc.realize = (dev) => {
      const s = dev as RiscvAclintSwiState;
      checkNumHarts(s.numHarts);
      s.iomem = intcInitMmio(s, TYPE_RISCV_ACLINT_SWI, RISCV_ACLINT_SWI_SIZE, 4, s);
      s.softIrqs = intcInitGpioOut(s, s.numHarts);
    };
    dc.reset = (dev) => {
      const s = dev as RiscvAclintSwiState;
      if (!s.sswi) for (let i = 0; i < s.numHarts; i++) qemuSetIrq(s.softIrqs[i] ?? null, 0);
    };
  },
});

// ---------------------------------------------------------------------------------------------
// Board helpers (riscv_aclint_*_create)

/** riscv_aclint_swi_create(): create, map at `addr`, wire to each hart's MSIP (or SSIP). */
export function riscvAclintSwiCreate(
  addr: number,
  hartidBase: number,
  numHarts: number,
  sswi: boolean,
): RiscvAclintSwiState {
  const dev = qdevNew<RiscvAclintSwiState>(TYPE_RISCV_ACLINT_SWI);
  dev.hartidBase = hartidBase;
  dev.numHarts = numHarts;
  dev.sswi = sswi ? 1 : 0;
  return intcRealizeAndWire(dev, addr, 'aclint', hartidBase, numHarts, (cpu, i) =>
    qdevConnectGpioOut(dev, i, qdevGetGpioIn(cpu, sswi ? IRQ_S_SOFT : IRQ_M_SOFT)),
  );
}

/** riscv_aclint_mtimer_create(): create, map, wire MTIP and make it each hart's time source. */
export function riscvAclintMtimerCreate(
  addr: number,
  size: number,
  hartidBase: number,
  numHarts: number,
  timecmpBase: number,
  timeBase: number,
  timebaseFreq: number,
): RiscvAclintMtimerState {
  const dev = qdevNew<RiscvAclintMtimerState>(TYPE_RISCV_ACLINT_MTIMER);
  dev.hartidBase = hartidBase;
  dev.numHarts = numHarts;
  dev.timecmpBase = timecmpBase;
  dev.timeBase = timeBase;
  dev.apertureSize = size;
  dev.timebaseFreq = timebaseFreq;
  return intcRealizeAndWire(dev, addr, 'aclint', hartidBase, numHarts, (cpu, i) => {
    cpu.core.time = dev;
    qdevConnectGpioOut(dev, i, qdevGetGpioIn(cpu, IRQ_M_TIMER));
  });
}
