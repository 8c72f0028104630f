/**
 * virtio-mmio transports (QEMU's hw/virtio/virtio-mmio.c), for now only as the `virt` board has them
 * with nothing plugged in: each transport owns a "virtio-mmio-bus.N" and a 0x200-byte register block
 * that reports the magic value "virt", the version (1: legacy, force-legacy=true as in QEMU 7.2),
 * device ID 0 ("no device") and QEMU's vendor ID. Every other register reads 0 and writes are
 * ignored, so a guest probes the slots and skips them. Virtio devices (the next step) plug into these
 * buses.
 */
import { typeRegister } from '../../qom/object.js';
import { BusState, DeviceClass, TYPE_BUS, qbusNew, qdevNew, qdevRealizeAndUnref } from '../core/qdev-core.js';
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
import type { IRQState } from '../core/irq.js';
import { MemoryRegion } from '../../system/memory.js';
import type { VMStateDescription } from '../../migration/vmstate-types.js';

export const TYPE_VIRTIO_BUS = 'virtio-bus';
export const TYPE_VIRTIO_MMIO_BUS = 'virtio-mmio-bus';
export const TYPE_VIRTIO_MMIO = 'virtio-mmio';

export const VIRTIO_MMIO_MAGIC_VALUE = 0x000;
export const VIRTIO_MMIO_VERSION = 0x004;
export const VIRTIO_MMIO_DEVICE_ID = 0x008;
export const VIRTIO_MMIO_VENDOR_ID = 0x00c;
/** "virt" in little-endian. */
export const VIRT_MAGIC = 0x74726976;
export const VIRT_VERSION = 2;
export const VIRT_VERSION_LEGACY = 1;
/** "QEMU". */
export const VIRT_VENDOR = 0x554d4551;

typeRegister({ name: TYPE_VIRTIO_BUS, parent: TYPE_BUS, abstract: true, instance: BusState });
typeRegister({ name: TYPE_VIRTIO_MMIO_BUS, parent: TYPE_VIRTIO_BUS });

export class VirtIOMMIOProxy extends SysBusDevice {
  formatTransportAddress = true;
  legacy = true;
  ioeventfd = false;
  bus: BusState | null = null;
  irqPins: (IRQState | null)[] = [null];
  iomem: MemoryRegion | null = null;

  read(offset: number): number {
    switch (offset) {
      case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRT_MAGIC;
      case VIRTIO_MMIO_VERSION:
        return this.legacy ? VIRT_VERSION_LEGACY : VIRT_VERSION;
      case VIRTIO_MMIO_VENDOR_ID:
        return VIRT_VENDOR;
      default:
        return 0; // includes DEVICE_ID: no backend
    }
  }
}

export const vmstateVirtioMmio: VMStateDescription = {
  name: TYPE_VIRTIO_MMIO,
  versionId: 1,
  minimumVersionId: 1,
  fields: [],
};

typeRegister<VirtIOMMIOProxy, DeviceClass>({
  name: TYPE_VIRTIO_MMIO,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: VirtIOMMIOProxy,
  classInit(dc) {
    deviceClassSetProps(dc, [
      definePropBool('format_transport_address', 'formatTransportAddress', true),
      definePropBool('force-legacy', 'legacy', true),
      definePropBool('ioeventfd', 'ioeventfd', false),
    ]);
    dc.vmsd = vmstateVirtioMmio;
    dc.realize = (dev) => {
      const s = dev as VirtIOMMIOProxy;
      s.bus = qbusNew(TYPE_VIRTIO_MMIO_BUS, s, null);
      s.irqPins = sysbusInitIrq(s);
      s.iomem = MemoryRegion.io(TYPE_VIRTIO_MMIO, 0x200, {
        read: (a) => s.read(a),
        write: () => undefined,
        valid: { minAccessSize: 1, maxAccessSize: 4 },
        impl: { minAccessSize: 4, maxAccessSize: 4 },
      });
      s.iomem.owner = s;
      sysbusInitMmio(s, s.iomem);
    };
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
