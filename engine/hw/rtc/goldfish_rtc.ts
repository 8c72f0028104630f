/**
 * Goldfish RTC (QEMU's hw/rtc/goldfish_rtc.c), the `virt` board's real-time clock at 0x101000.
 *
 * The counter is nanoseconds since the Unix epoch: host wall-clock time plus `tickOffset`, which
 * writes to TIME_LOW/TIME_HIGH adjust. Reading TIME_LOW latches the high half for TIME_HIGH. The alarm
 * is armed by writing ALARM_LOW (ALARM_HIGH first); when the counter reaches it the alarm fires,
 * setting the interrupt pending, which reaches the line while IRQ_ENABLED is set, until
 * CLEAR_INTERRUPT.
 */
import { typeRegister } from '../../qom/object.js';
import { DeviceClass, qdevNew, qdevRealizeAndUnref } from '../core/qdev-core.js';
import { deviceClassSetProps, definePropBool } from '../core/qdev-properties.js';
import {
  SysBusDevice,
  TYPE_SYS_BUS_DEVICE,
  sysbusConnectIrq,
  sysbusInitIrq,
  sysbusInitMmio,
  sysbusMmioMap,
  sysbusGetDefault,
} from '../core/sysbus.js';
import { type IRQState, qemuSetIrq } from '../core/irq.js';
import { MemoryRegion } from '../../system/memory.js';
import type { VMStateDescription } from '../../migration/vmstate-types.js';

export const TYPE_GOLDFISH_RTC = 'goldfish_rtc';

export const RTC_TIME_LOW = 0x00;
export const RTC_TIME_HIGH = 0x04;
export const RTC_ALARM_LOW = 0x08;
export const RTC_ALARM_HIGH = 0x0c;
export const RTC_IRQ_ENABLED = 0x10;
export const RTC_CLEAR_ALARM = 0x14;
export const RTC_ALARM_STATUS = 0x18;
export const RTC_CLEAR_INTERRUPT = 0x1c;

const MASK32 = 0xffffffffn;

/** Host wall-clock ns (QEMU_CLOCK_HOST, the default rtc clock); replaceable for tests. */
export let rtcHostNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

export function setRtcHostClock(fn: (() => bigint) | null): void {
  rtcHostNs = fn ?? (() => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)));
}

export class GoldfishRtcState extends SysBusDevice {
  bigEndian = false;
  /** Counter minus host clock, ns. */
  tickOffset = 0n;
  alarmNext = 0n;
  alarmRunning = 0;
  irqPending = 0;
  irqEnabled = 0;
  timeHigh = 0;
  irqPins: (IRQState | null)[] = [null];
  iomem: MemoryRegion | null = null;
  private timer: NodeJS.Timeout | null = null;

  getCount(): bigint {
    return this.tickOffset + rtcHostNs();
  }

  update(): void {
    qemuSetIrq(this.irqPins[0] ?? null, this.irqPending & this.irqEnabled ? 1 : 0);
  }

  private interrupt(): void {
    this.alarmRunning = 0;
    this.irqPending = 1;
    this.update();
  }

  clearAlarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.alarmRunning = 0;
  }

  setAlarm(): void {
    const ticks = this.getCount();
    const event = this.alarmNext;
    if (event <= ticks) {
      this.clearAlarm();
      this.interrupt();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    // setTimeout takes at most ~24.8 days; re-check when it fires.
    const ms = Math.min(Number((event - ticks) / 1_000_000n) + 1, 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.getCount() >= this.alarmNext) this.interrupt();
      else this.setAlarm();
    }, ms);
    this.timer.unref?.();
    this.alarmRunning = 1;
  }

  read(addr: number): number {
    switch (addr) {
      case RTC_TIME_LOW: {
        const r = this.getCount();
        this.timeHigh = Number(r >> 32n) >>> 0;
        return Number(r & MASK32);
      }
      case RTC_TIME_HIGH:
        return this.timeHigh;
      case RTC_ALARM_LOW:
        return Number(this.alarmNext & MASK32);
      case RTC_ALARM_HIGH:
        return Number((this.alarmNext >> 32n) & MASK32);
      case RTC_IRQ_ENABLED:
        return this.irqEnabled;
      case RTC_ALARM_STATUS:
        return this.alarmRunning;
      default:
        return 0;
    }
  }

  write(addr: number, value: number): void {
    const v = BigInt(value >>> 0);
    switch (addr) {
      case RTC_TIME_LOW: {
        const cur = this.getCount();
        this.tickOffset += ((cur & ~MASK32) | v) - cur;
        break;
      }
      case RTC_TIME_HIGH: {
        const cur = this.getCount();
        this.tickOffset += ((cur & MASK32) | (v << 32n)) - cur;
        break;
      }
      case RTC_ALARM_LOW:
        this.alarmNext = (this.alarmNext & ~MASK32) | v;
        this.setAlarm();
        break;
      case RTC_ALARM_HIGH:
        this.alarmNext = (this.alarmNext & MASK32) | (v << 32n);
        break;
      case RTC_IRQ_ENABLED:
        this.irqEnabled = Number(v & 1n);
        this.update();
        break;
      case RTC_CLEAR_ALARM:
        this.clearAlarm();
        break;
      case RTC_CLEAR_INTERRUPT:
        this.irqPending = 0;
        this.update();
        break;
    }
  }
}

export const vmstateGoldfishRtc: VMStateDescription = {
  name: TYPE_GOLDFISH_RTC,
  versionId: 2,
  minimumVersionId: 0,
  fields: [
    { name: 'tickOffset', kind: 'int64' },
    { name: 'alarmNext', kind: 'uint64' },
    { name: 'alarmRunning', kind: 'uint32' },
    { name: 'irqPending', kind: 'uint32' },
    { name: 'irqEnabled', kind: 'uint32' },
    { name: 'timeHigh', kind: 'uint32', versionId: 2 },
  ],
  postLoad(s: GoldfishRtcState) {
    s.tickOffset = BigInt.asIntN(64, BigInt(s.tickOffset));
    s.alarmNext = BigInt(s.alarmNext);
    if (s.alarmRunning) s.setAlarm();
    else s.clearAlarm();
    s.update();
  },
};

typeRegister<GoldfishRtcState, DeviceClass>({
  name: TYPE_GOLDFISH_RTC,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: GoldfishRtcState,
  classInit(dc) {
    deviceClassSetProps(dc, [definePropBool('big-endian', 'bigEndian', false)]);
    dc.vmsd = vmstateGoldfishRtc;
    dc.realize = (dev) => {
      const s = dev as GoldfishRtcState;
      s.iomem = MemoryRegion.io(TYPE_GOLDFISH_RTC, 0x24, {
        read: (a) => s.read(a),
        write: (a, v) => s.write(a, v),
        valid: { minAccessSize: 4, maxAccessSize: 4 },
      });
      s.iomem.owner = s;
      sysbusInitMmio(s, s.iomem);
      s.irqPins = sysbusInitIrq(s);
      // The counter starts at host wall-clock time (tick_offset = 0 against QEMU_CLOCK_HOST).
      s.tickOffset = 0n;
    };
    dc.unrealize = (dev) => (dev as GoldfishRtcState).clearAlarm();
    dc.reset = (dev) => {
      const s = dev as GoldfishRtcState;
      s.clearAlarm();
      s.alarmNext = 0n;
      s.irqEnabled = 0;
      s.irqPending = 0;
      s.update();
    };
  },
});

/** sysbus_create_simple(TYPE_GOLDFISH_RTC, addr, irq). */
export function goldfishRtcCreate(addr: number, irq: IRQState | null): GoldfishRtcState {
  const dev = qdevNew<GoldfishRtcState>(TYPE_GOLDFISH_RTC);
  qdevRealizeAndUnref(dev, sysbusGetDefault());
  sysbusMmioMap(dev, 0, addr);
  sysbusConnectIrq(dev, 0, irq);
  return dev;
}
