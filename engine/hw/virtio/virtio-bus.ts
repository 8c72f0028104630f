/**
 * virtio-bus (QEMU's hw/virtio/virtio-bus.c): the bus between a transport (virtio-mmio here;
 * virtio-pci in QEMU) and the one virtio device plugged into it. The transport's bus class supplies
 * the hooks the device core calls: raise the interrupt, the DMA address space, the transport's own
 * part of the migration stream, and the plug-time feature adjustments (VERSION_1 for modern
 * transports).
 */
import type { QomObject } from '../../qom/object.js';
import { typeRegister } from '../../qom/object.js';
import { BusClass, BusState, DeviceState, TYPE_BUS } from '../core/qdev-core.js';
import type { AddressSpace } from '../../system/memory.js';
import type { VMStateReader, VMStateWriter } from '../../migration/vmstate-types.js';

export const TYPE_VIRTIO_BUS = 'virtio-bus';

export class VirtioBusState extends BusState {}

export class VirtioBusClass extends BusClass {
  /** Interrupt the guest: the device's ISR changed (vector is for MSI-X transports). */
  notify?: (transport: DeviceState, vector: number) => void;
  /** Transport registers saved in front of the device state (virtio-mmio: feature/page selectors). */
  saveConfig?: (transport: DeviceState, f: VMStateWriter) => void;
  loadConfig?: (transport: DeviceState, f: VMStateReader) => void;
  /** Transport state beyond the legacy layout (modern virtio-mmio: per-queue addresses). */
  hasExtraState?: (transport: DeviceState) => boolean;
  saveExtraState?: (transport: DeviceState, f: VMStateWriter) => void;
  loadExtraState?: (transport: DeviceState, f: VMStateReader) => void;
  /** Before the device's features are computed (modern transports add VIRTIO_F_VERSION_1). */
  prePlugged?: (transport: DeviceState) => void;
  /** After: the transport may look at / adjust the final host features. */
  devicePlugged?: (transport: DeviceState) => void;
  deviceUnplugged?: (transport: DeviceState) => void;
  /** Where device DMA goes; null: address_space_memory. */
  getDmaAs?: (transport: DeviceState) => AddressSpace | null;
  /** Legacy rings: the guest chooses the alignment (virtio-mmio's QueueAlign). */
  hasVariableVringAlignment = false;
}

typeRegister<VirtioBusState, VirtioBusClass>({
  name: TYPE_VIRTIO_BUS,
  parent: TYPE_BUS,
  abstract: true,
  instance: VirtioBusState,
  class: VirtioBusClass,
  classInit(k) {
    // One device per virtio bus (QEMU sets max_dev = 1 in every transport's bus class).
    k.maxDev = 1;
  },
});

export function virtioBusClass(bus: BusState): VirtioBusClass {
  return bus.class as unknown as VirtioBusClass;
}

/** virtio_bus_get_device(): the device plugged into `bus`, if any. */
export function virtioBusGetDevice<T extends DeviceState = DeviceState>(bus: BusState | null): T | null {
  return (bus?.children[0]?.child as T | undefined) ?? null;
}

/** The transport device owning `bus`. */
export function virtioBusTransport(bus: QomObject): DeviceState {
  return (bus as BusState).parentDevice!;
}
