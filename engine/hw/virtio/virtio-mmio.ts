/**
 * virtio-mmio transport (QEMU's hw/virtio/virtio-mmio.c): a 0x200-byte register block plus one
 * interrupt line, owning a "virtio-mmio-bus.N" into which one virtio device plugs.
 *
 * Two register layouts, as in QEMU 7.2:
 * - legacy (Version 1, `force-legacy=true`, QEMU's default): the guest gives a page size and one
 *   page frame number per queue (QueuePFN, QueueAlign); features are 32 bits wide.
 * - modern (Version 2, `-global virtio-mmio.force-legacy=false`): separate descriptor/driver/device
 *   ring addresses, QueueReady, 64-bit features through the select registers, ConfigGeneration;
 *   VIRTIO_F_VERSION_1 is offered.
 *
 * With no device plugged, the slot reads as magic/version/vendor with device ID 0 and ignores writes,
 * so a guest probes and skips it. Guest mistakes are logged-and-ignored register accesses or
 * virtio_error()s in the core; nothing here throws.
 */
import { objectCheck, typeRegister } from '../../qom/object.js';
import { DeviceState, qbusNew, qdevNew, qdevRealizeAndUnref, type DeviceClass } from '../core/qdev-core.js';
import { definePropBit, definePropBool, deviceClassSetProps } from '../core/qdev-properties.js';
import {
  SysBusDevice,
  TYPE_SYS_BUS_DEVICE,
  sysbusConnectIrq,
  sysbusGetDefault,
  sysbusInitIrq,
  sysbusInitMmio,
  sysbusMmioMap,
} from '../core/sysbus.js';
import { qemuSetIrq, type IRQState } from '../core/irq.js';
import { MemoryRegion } from '../../system/memory.js';
import { TYPE_VIRTIO_BUS, VirtioBusClass, VirtioBusState, virtioBusGetDevice } from './virtio-bus.js';
import {
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_DEVICE_GET_CLASS,
  VIRTIO_F_VERSION_1,
  VIRTIO_QUEUE_MAX,
  VIRTQUEUE_MAX_SIZE,
  VirtIODevice,
  virtioAddFeature,
  virtioConfigRead,
  virtioConfigWrite,
  virtioQueueGetAddr,
  virtioQueueGetNum,
  virtioQueueNotify,
  virtioQueueSetAddr,
  virtioQueueSetAlign,
  virtioQueueSetNum,
  virtioQueueSetRings,
  virtioQueueUpdateRings,
  virtioReset,
  virtioSetFeatures,
  virtioSetStatus,
  virtioUpdateIrq,
} from './virtio.js';

export const TYPE_VIRTIO_MMIO_BUS = 'virtio-mmio-bus';
export const TYPE_VIRTIO_MMIO = 'virtio-mmio';
export { TYPE_VIRTIO_BUS };

// Register offsets (include/standard-headers/linux/virtio_mmio.h)
export const VIRTIO_MMIO_MAGIC_VALUE = 0x000;
export const VIRTIO_MMIO_VERSION = 0x004;
export const VIRTIO_MMIO_DEVICE_ID = 0x008;
export const VIRTIO_MMIO_VENDOR_ID = 0x00c;
export const VIRTIO_MMIO_DEVICE_FEATURES = 0x010;
export const VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014;
export const VIRTIO_MMIO_DRIVER_FEATURES = 0x020;
export const VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024;
export const VIRTIO_MMIO_GUEST_PAGE_SIZE = 0x028;
export const VIRTIO_MMIO_QUEUE_SEL = 0x030;
export const VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034;
export const VIRTIO_MMIO_QUEUE_NUM = 0x038;
export const VIRTIO_MMIO_QUEUE_ALIGN = 0x03c;
export const VIRTIO_MMIO_QUEUE_PFN = 0x040;
export const VIRTIO_MMIO_QUEUE_READY = 0x044;
export const VIRTIO_MMIO_QUEUE_NOTIFY = 0x050;
export const VIRTIO_MMIO_INTERRUPT_STATUS = 0x060;
export const VIRTIO_MMIO_INTERRUPT_ACK = 0x064;
export const VIRTIO_MMIO_STATUS = 0x070;
export const VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080;
export const VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084;
export const VIRTIO_MMIO_QUEUE_AVAIL_LOW = 0x090;
export const VIRTIO_MMIO_QUEUE_AVAIL_HIGH = 0x094;
export const VIRTIO_MMIO_QUEUE_USED_LOW = 0x0a0;
export const VIRTIO_MMIO_QUEUE_USED_HIGH = 0x0a4;
export const VIRTIO_MMIO_SHM_SEL = 0x0ac;
export const VIRTIO_MMIO_SHM_LEN_LOW = 0x0b0;
export const VIRTIO_MMIO_SHM_LEN_HIGH = 0x0b4;
export const VIRTIO_MMIO_SHM_BASE_LOW = 0x0b8;
export const VIRTIO_MMIO_SHM_BASE_HIGH = 0x0bc;
export const VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc;
export const VIRTIO_MMIO_CONFIG = 0x100;

/** "virt" in little-endian. */
export const VIRT_MAGIC = 0x74726976;
export const VIRT_VERSION = 2;
export const VIRT_VERSION_LEGACY = 1;
/** "QEMU". */
export const VIRT_VENDOR = 0x554d4551;

const VIRTIO_IOMMIO_FLAG_USE_IOEVENTFD_BIT = 1;

/** Per-queue registers of the modern layout (VirtIOMMIOQueue). */
export interface VirtIOMMIOQueue {
  num: number;
  enabled: boolean;
  desc: [number, number];
  avail: [number, number];
  used: [number, number];
}

const newQueueRegs = (): VirtIOMMIOQueue => ({
  num: 0,
  enabled: false,
  desc: [0, 0],
  avail: [0, 0],
  used: [0, 0],
});

const hi32 = (lo: number, hi: number) => (hi >>> 0) * 2 ** 32 + (lo >>> 0);

/** Guest mistakes QEMU logs with LOG_GUEST_ERROR (-d guest_errors); off unless asked for. */
let guestErrorLog: ((msg: string) => void) | null = null;
export function setVirtioMmioGuestErrorLog(fn: ((msg: string) => void) | null): void {
  guestErrorLog = fn;
}
const guestError = (msg: string) => guestErrorLog?.(msg);

export class VirtIOMMIOBusState extends VirtioBusState {}

export class VirtIOMMIOProxy extends SysBusDevice {
  formatTransportAddress = true;
  /** force-legacy: the Version 1 register layout. */
  legacy = true;
  flags = 0;
  bus: VirtIOMMIOBusState | null = null;
  irqPins: (IRQState | null)[] = [null];
  iomem: MemoryRegion | null = null;
  hostFeaturesSel = 0;
  guestFeaturesSel = 0;
  guestPageShift = 0;
  guestFeatures: [number, number] = [0, 0];
  /** Modern queue registers, created on first use (QEMU keeps VIRTIO_QUEUE_MAX of them). */
  vqs = new Map<number, VirtIOMMIOQueue>();

  get ioeventfd(): boolean {
    return (this.flags & (1 << VIRTIO_IOMMIO_FLAG_USE_IOEVENTFD_BIT)) !== 0;
  }

  vdev(): VirtIODevice | null {
    return virtioBusGetDevice<VirtIODevice>(this.bus);
  }

  private q(n: number): VirtIOMMIOQueue {
    let r = this.vqs.get(n);
    if (!r) this.vqs.set(n, (r = newQueueRegs()));
    return r;
  }

  read(offset: number, size: number): number {
    const vdev = this.vdev();
    if (!vdev) {
      switch (offset) {
        case VIRTIO_MMIO_MAGIC_VALUE:
          return VIRT_MAGIC;
        case VIRTIO_MMIO_VERSION:
          return this.legacy ? VIRT_VERSION_LEGACY : VIRT_VERSION;
        case VIRTIO_MMIO_VENDOR_ID:
          return VIRT_VENDOR;
        default:
          return 0;
      }
    }
    if (offset >= VIRTIO_MMIO_CONFIG) {
      return virtioConfigRead(vdev, offset - VIRTIO_MMIO_CONFIG, size as 1 | 2 | 4);
    }
    if (size !== 4) {
      guestError('virtio_mmio_read: wrong size access to register!');
      return 0;
    }
    switch (offset) {
      case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRT_MAGIC;
      case VIRTIO_MMIO_VERSION:
        return this.legacy ? VIRT_VERSION_LEGACY : VIRT_VERSION;
      case VIRTIO_MMIO_DEVICE_ID:
        return vdev.deviceId;
      case VIRTIO_MMIO_VENDOR_ID:
        return VIRT_VENDOR;
      case VIRTIO_MMIO_DEVICE_FEATURES:
        if (this.legacy) {
          return this.hostFeaturesSel ? 0 : Number(vdev.hostFeatures & 0xffffffffn);
        } else {
          const f = vdev.hostFeatures & ~VIRTIO_DEVICE_GET_CLASS(vdev).legacyFeatures;
          return Number((f >> BigInt(32 * this.hostFeaturesSel)) & 0xffffffffn);
        }
      case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return virtioQueueGetNum(vdev, vdev.queueSel) ? VIRTQUEUE_MAX_SIZE : 0;
      case VIRTIO_MMIO_QUEUE_PFN:
        if (!this.legacy) return this.badMode('read from legacy register', offset);
        return Math.floor(virtioQueueGetAddr(vdev, vdev.queueSel) / 2 ** this.guestPageShift) >>> 0;
      case VIRTIO_MMIO_QUEUE_READY:
        if (this.legacy) return this.badMode('read from non-legacy register', offset);
        return this.q(vdev.queueSel).enabled ? 1 : 0;
      case VIRTIO_MMIO_INTERRUPT_STATUS:
        return vdev.isr;
      case VIRTIO_MMIO_STATUS:
        return vdev.status;
      case VIRTIO_MMIO_CONFIG_GENERATION:
        if (this.legacy) return this.badMode('read from non-legacy register', offset);
        return vdev.generation;
      case VIRTIO_MMIO_SHM_LEN_LOW:
      case VIRTIO_MMIO_SHM_LEN_HIGH:
        // No shared memory regions: length -1 means "does not exist".
        return 0xffffffff;
      case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
      case VIRTIO_MMIO_DRIVER_FEATURES:
      case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
      case VIRTIO_MMIO_GUEST_PAGE_SIZE:
      case VIRTIO_MMIO_QUEUE_SEL:
      case VIRTIO_MMIO_QUEUE_NUM:
      case VIRTIO_MMIO_QUEUE_ALIGN:
      case VIRTIO_MMIO_QUEUE_NOTIFY:
      case VIRTIO_MMIO_INTERRUPT_ACK:
      case VIRTIO_MMIO_QUEUE_DESC_LOW:
      case VIRTIO_MMIO_QUEUE_DESC_HIGH:
      case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
      case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
      case VIRTIO_MMIO_QUEUE_USED_LOW:
      case VIRTIO_MMIO_QUEUE_USED_HIGH:
        guestError(`virtio_mmio_read: read of write-only register (0x${offset.toString(16)})`);
        return 0;
      default:
        guestError(`virtio_mmio_read: bad register offset (0x${offset.toString(16)})`);
        return 0;
    }
  }

  private badMode(what: string, offset: number): number {
    guestError(`virtio_mmio: ${what} (0x${offset.toString(16)}) in ${this.legacy ? '' : 'non-'}legacy mode`);
    return 0;
  }

  write(offset: number, value: number, size: number): void {
    const vdev = this.vdev();
    if (!vdev) return;
    value >>>= 0;
    if (offset >= VIRTIO_MMIO_CONFIG) {
      virtioConfigWrite(vdev, offset - VIRTIO_MMIO_CONFIG, size as 1 | 2 | 4, value);
      return;
    }
    if (size !== 4) {
      guestError('virtio_mmio_write: wrong size access to register!');
      return;
    }
    const sel = vdev.queueSel;
    switch (offset) {
      case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        this.hostFeaturesSel = value ? 1 : 0;
        return;
      case VIRTIO_MMIO_DRIVER_FEATURES:
        if (this.legacy) {
          if (this.guestFeaturesSel) {
            guestError(
              'virtio_mmio_write: attempt to write guest features with guest_features_sel > 0 in legacy mode',
            );
          } else {
            virtioSetFeatures(vdev, BigInt(value));
          }
        } else {
          this.guestFeatures[this.guestFeaturesSel] = value;
        }
        return;
      case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        this.guestFeaturesSel = value ? 1 : 0;
        return;
      case VIRTIO_MMIO_GUEST_PAGE_SIZE: {
        if (!this.legacy) return void this.badMode('write to legacy register', offset);
        // ctz32(value); 0 gives 32, which QEMU turns into 0.
        const shift = value === 0 ? 32 : 31 - Math.clz32(value & -value);
        this.guestPageShift = shift > 31 ? 0 : shift;
        return;
      }
      case VIRTIO_MMIO_QUEUE_SEL:
        if (value < VIRTIO_QUEUE_MAX) vdev.queueSel = value;
        return;
      case VIRTIO_MMIO_QUEUE_NUM:
        virtioQueueSetNum(vdev, sel, value);
        if (this.legacy) virtioQueueUpdateRings(vdev, sel);
        else this.q(sel).num = value & 0xffff;
        return;
      case VIRTIO_MMIO_QUEUE_ALIGN:
        if (!this.legacy) return void this.badMode('write to legacy register', offset);
        virtioQueueSetAlign(vdev, sel, value);
        return;
      case VIRTIO_MMIO_QUEUE_PFN:
        if (!this.legacy) return void this.badMode('write to legacy register', offset);
        if (value === 0) virtioReset(vdev);
        else virtioQueueSetAddr(vdev, sel, value * 2 ** this.guestPageShift);
        return;
      case VIRTIO_MMIO_QUEUE_READY: {
        if (this.legacy) return void this.badMode('write to non-legacy register', offset);
        const r = this.q(sel);
        if (value) {
          virtioQueueSetNum(vdev, sel, r.num);
          virtioQueueSetRings(
            vdev,
            sel,
            hi32(r.desc[0], r.desc[1]),
            hi32(r.avail[0], r.avail[1]),
            hi32(r.used[0], r.used[1]),
          );
          r.enabled = true;
        } else {
          r.enabled = false;
        }
        return;
      }
      case VIRTIO_MMIO_QUEUE_NOTIFY:
        if (value < VIRTIO_QUEUE_MAX) virtioQueueNotify(vdev, value);
        return;
      case VIRTIO_MMIO_INTERRUPT_ACK:
        vdev.isr &= ~value & 0xff;
        virtioUpdateIrq(vdev);
        return;
      case VIRTIO_MMIO_STATUS:
        if (!this.legacy && value & VIRTIO_CONFIG_S_FEATURES_OK) {
          virtioSetFeatures(vdev, BigInt(this.guestFeatures[0]) | (BigInt(this.guestFeatures[1]) << 32n));
        }
        virtioSetStatus(vdev, value & 0xff);
        if (vdev.status === 0) {
          virtioReset(vdev);
          this.softReset();
        }
        return;
      case VIRTIO_MMIO_QUEUE_DESC_LOW:
      case VIRTIO_MMIO_QUEUE_DESC_HIGH:
      case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
      case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
      case VIRTIO_MMIO_QUEUE_USED_LOW:
      case VIRTIO_MMIO_QUEUE_USED_HIGH: {
        if (this.legacy) return void this.badMode('write to non-legacy register', offset);
        const r = this.q(sel);
        const half = (offset & 4) >> 2;
        const which =
          offset < VIRTIO_MMIO_QUEUE_AVAIL_LOW
            ? r.desc
            : offset < VIRTIO_MMIO_QUEUE_USED_LOW
              ? r.avail
              : r.used;
        which[half] = value;
        return;
      }
      case VIRTIO_MMIO_MAGIC_VALUE:
      case VIRTIO_MMIO_VERSION:
      case VIRTIO_MMIO_DEVICE_ID:
      case VIRTIO_MMIO_VENDOR_ID:
      case VIRTIO_MMIO_DEVICE_FEATURES:
      case VIRTIO_MMIO_QUEUE_NUM_MAX:
      case VIRTIO_MMIO_INTERRUPT_STATUS:
      case VIRTIO_MMIO_CONFIG_GENERATION:
        guestError(`virtio_mmio_write: write to read-only register (0x${offset.toString(16)})`);
        return;
      default:
        guestError(`virtio_mmio_write: bad register offset (0x${offset.toString(16)})`);
    }
  }

  /** virtio_mmio_soft_reset(): the driver wrote 0 to Status. */
  private softReset(): void {
    if (this.legacy) return;
    for (const r of this.vqs.values()) r.enabled = false;
  }

  /** virtio_mmio_update_irq(): the line follows ISR != 0. */
  updateIrq(): void {
    const vdev = this.vdev();
    if (!vdev) return;
    qemuSetIrq(this.irqPins[0] ?? null, vdev.isr !== 0 ? 1 : 0);
  }

  /** virtio_mmio_reset(). */
  reset(): void {
    const vdev = this.vdev();
    if (vdev) virtioReset(vdev);
    this.hostFeaturesSel = 0;
    this.guestFeaturesSel = 0;
    this.guestPageShift = 0;
    if (!this.legacy) {
      this.guestFeatures = [0, 0];
      this.vqs.clear();
    }
  }
}

export const VIRTIO_MMIO = (o: unknown) =>
  objectCheck<VirtIOMMIOProxy>(o as VirtIOMMIOProxy, TYPE_VIRTIO_MMIO);

const proxyOf = (d: DeviceState) => d as VirtIOMMIOProxy;

typeRegister<VirtIOMMIOBusState, VirtioBusClass>({
  name: TYPE_VIRTIO_MMIO_BUS,
  parent: TYPE_VIRTIO_BUS,
  instance: VirtIOMMIOBusState,
  classInit(k) {
    k.notify = (t) => proxyOf(t).updateIrq();
    k.saveConfig = (t, f) => {
      const p = proxyOf(t);
      f.u32(p.hostFeaturesSel);
      f.u32(p.guestFeaturesSel);
      f.u32(p.guestPageShift);
    };
    k.loadConfig = (t, f) => {
      const p = proxyOf(t);
      p.hostFeaturesSel = f.u32() ? 1 : 0;
      p.guestFeaturesSel = f.u32() ? 1 : 0;
      const shift = f.u32();
      p.guestPageShift = shift > 31 ? 0 : shift;
    };
    k.hasExtraState = (t) => !proxyOf(t).legacy;
    k.saveExtraState = (t, f) => {
      // vmstate_virtio_mmio_state_sub: guest features, then the queues' registers.
      const p = proxyOf(t);
      f.u32(p.guestFeatures[0]);
      f.u32(p.guestFeatures[1]);
      const qs = [...p.vqs.entries()].sort((a, b) => a[0] - b[0]);
      f.u32(qs.length);
      for (const [n, r] of qs) {
        f.u32(n);
        f.u16(r.num);
        f.u8(r.enabled ? 1 : 0);
        for (const w of [...r.desc, ...r.avail, ...r.used]) f.u32(w);
      }
    };
    k.loadExtraState = (t, f) => {
      const p = proxyOf(t);
      p.guestFeatures = [f.u32(), f.u32()];
      p.vqs.clear();
      const count = f.u32();
      for (let i = 0; i < count; i++) {
        const n = f.u32();
        const num = f.u16();
        const enabled = f.u8() !== 0;
        const w = Array.from({ length: 6 }, () => f.u32());
        if (n < VIRTIO_QUEUE_MAX) {
          p.vqs.set(n, { num, enabled, desc: [w[0]!, w[1]!], avail: [w[2]!, w[3]!], used: [w[4]!, w[5]!] });
        }
      }
    };
    k.prePlugged = (t) => {
      const p = proxyOf(t);
      const vdev = p.vdev();
      if (vdev && !p.legacy) vdev.hostFeatures = virtioAddFeature(vdev.hostFeatures, VIRTIO_F_VERSION_1);
    };
    k.hasVariableVringAlignment = true;
    k.getDevPath = (dev) => {
      const p = dev.parentBus!.parentDevice as VirtIOMMIOProxy;
      // The proxy sits on sysbus, which gives no path of its own.
      if (!p.formatTransportAddress) return null;
      return `virtio-mmio@${(p.mmio[0]?.addr ?? 0n).toString(16).padStart(16, '0')}`;
    };
  },
});

typeRegister<VirtIOMMIOProxy, DeviceClass>({
  name: TYPE_VIRTIO_MMIO,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: VirtIOMMIOProxy,
  classInit(dc) {
    dc.categories.add('misc');
    deviceClassSetProps(dc, [
      definePropBool('format_transport_address', 'formatTransportAddress', true),
      definePropBool('force-legacy', 'legacy', true),
      definePropBit('ioeventfd', 'flags', VIRTIO_IOMMIO_FLAG_USE_IOEVENTFD_BIT, true),
    ]);
    dc.realize = (dev) => {
      const s = dev as VirtIOMMIOProxy;
      s.bus = qbusNew<VirtIOMMIOBusState>(TYPE_VIRTIO_MMIO_BUS, s, null);
      s.irqPins = sysbusInitIrq(s);
      // No KVM: ioeventfd is never in use (QEMU clears the flag without kvm_eventfds_enabled()).
      s.flags &= ~(1 << VIRTIO_IOMMIO_FLAG_USE_IOEVENTFD_BIT);
      s.iomem = MemoryRegion.io(TYPE_VIRTIO_MMIO, 0x200, {
        read: (a, size) => s.read(a, size),
        write: (a, v, size) => s.write(a, v, size),
        valid: { minAccessSize: 1, maxAccessSize: 4 },
        impl: { minAccessSize: 1, maxAccessSize: 4 },
      });
      s.iomem.owner = s;
      sysbusInitMmio(s, s.iomem);
    };
    dc.reset = (dev) => (dev as VirtIOMMIOProxy).reset();
  },
});

/** sysbus_create_simple("virtio-mmio", addr, irq). */
export function virtioMmioCreate(addr: number, irq: IRQState | null): VirtIOMMIOProxy {
  const dev = qdevNew<VirtIOMMIOProxy>(TYPE_VIRTIO_MMIO);
  qdevRealizeAndUnref(dev, sysbusGetDefault());
  sysbusMmioMap(dev, 0, addr);
  sysbusConnectIrq(dev, 0, irq);
  return dev;
}
