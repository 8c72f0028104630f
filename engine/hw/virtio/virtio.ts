/**
 * The virtio device core (QEMU's hw/virtio/virtio.c): what every virtio device shares, whatever its
 * transport.
 *
 * DESIGN (the API devices build on; keep it stable)
 *
 * Types. "virtio-device" (abstract, bus "virtio-bus") is the parent of every device model
 * (virtio-blk-device, virtio-rng-device, virtio-scsi-device, virtio-serial-device, virtio-input...).
 * A transport (virtio-mmio; virtio-pci in QEMU) owns a virtio bus with room for one device and
 * supplies the bus hooks in virtio-bus.ts. A device model:
 *
 *   typeRegister<MyDev, VirtioDeviceClass>({ name: 'virtio-foo-device', parent: TYPE_VIRTIO_DEVICE,
 *     instance: MyDev, classInit(vdc) {
 *       deviceClassSetProps(vdc, [...]);            // its own properties (common ones are inherited)
 *       vdc.vmsd = virtioDeviceVmsd('virtio-foo', 1); // section = the virtio stream (VMSTATE_VIRTIO_DEVICE)
 *       vdc.deviceRealize = (vdev) => { virtioInit(vdev, VIRTIO_ID_FOO, configSize);
 *                                       s.vq = virtioAddQueue(vdev, 128, handleOutput); };
 *       vdc.getFeatures = (vdev, f) => f | myFeatureBits;   // required
 *       vdc.getConfig = (vdev, cfg) => { ...fill cfg (little-endian) };
 *       ...optional: setConfig, setFeatures, validateFeatures, setStatus, resetDevice,
 *          deviceUnrealize, save/load (device stream after the rings), devVmsd, postLoad } });
 *
 * Never override DeviceClass.realize/unrealize/reset of a virtio device: the core's realize calls
 * `deviceRealize`, then plugs the device into its transport (features computed, VERSION_1 added by
 * modern transports, DMA address space chosen). The transport's reset resets the device
 * (virtioReset -> `resetDevice`, queues emptied).
 *
 * Queues. `virtioAddQueue(vdev, size, handler)` returns a VirtQueue (virtqueue.ts); `handler(vq)` runs
 * when the guest kicks it. In the handler: `vq.pop()` gives a VirtQueueElement with `outSg` (device
 * reads) and `inSg` (device writes) as lists of RAM views; use `iovToBuf`/`iovFromBuf`/`iovSize`
 * (virtio-dma.ts) to move bytes; then `vq.push(elem, bytesWritten)` (or `fill` + `flush`) and
 * `virtioNotify(vdev, vq)`. Requests may complete later and in any order (async backends): keep the
 * element, push it when done. Check `vdev.epoch` before completing something started earlier: it
 * changes on reset and on loadvm, and a stale completion must be dropped (its memory belongs to a
 * machine state that no longer exists). `vq.setNotification(false/true)` suppresses kicks;
 * `vq.getAvailBytes()` looks ahead without popping.
 *
 * Errors. A guest that hands us bad rings or descriptors gets `virtioError(vdev, msg)`: reported
 * once, device marked broken (pop returns null, nothing is written), NEEDS_RESET set for modern
 * drivers. No guest action may throw out of an MMIO handler: device code must not throw either.
 *
 * Config space. `vdev.config` (configLen bytes) is refreshed through `getConfig` before every guest
 * read and handed to `setConfig` after every guest write; `virtioNotifyConfig(vdev)` signals a change.
 *
 * Migration. `virtioDeviceVmsd(name, version)` makes the device's section: one custom field that
 * writes QEMU's virtio_save() layout (transport config, status, ISR, features, config space, each
 * queue's size/alignment/addresses/last_avail_idx), then the device's `save` hook and `devVmsd`,
 * then the core's trailer (64-bit features, ring addresses, broken/started flags, transport extra
 * state). Loading re-derives used_idx/inuse from guest RAM (which is loaded first), like QEMU.
 * Elements a device still holds at save time (in flight) are its own to save in `save` and to map
 * again with `vq.remapElement` in `load`; virtio-blk does that to re-run unfinished requests.
 */
import { errorSetg } from '../../qapi/error.js';
import { objectCheck, objectGetClassAs, typeRegister, type QomObject } from '../../qom/object.js';
import { DeviceClass, DeviceState, TYPE_DEVICE } from '../core/qdev-core.js';
import { definePropBit64, definePropBool, deviceClassSetProps } from '../core/qdev-properties.js';
import type { AddressSpace } from '../../system/memory.js';
import { addressSpaceMemory } from '../riscv/machine-memory.js';
import type {
  VMStateDescription,
  VMStateInfo,
  VMStateReader,
  VMStateWriter,
} from '../../migration/vmstate-types.js';
import { vmstateLoadState, vmstateSaveState } from '../../migration/vmstate.js';
import type { QemuFileReader, QemuFileWriter } from '../../migration/qemu-file.js';
import { EINVAL, MigrationError } from '../../migration/migration-error.js';
import { TYPE_VIRTIO_BUS, virtioBusClass } from './virtio-bus.js';
import {
  VIRTIO_NO_VECTOR,
  VIRTIO_QUEUE_MAX,
  VIRTQUEUE_MAX_SIZE,
  VirtQueue,
  type VirtQueueOwner,
} from './virtqueue.js';

export * from './virtqueue.js';
export * from './virtio-dma.js';
export { TYPE_VIRTIO_BUS } from './virtio-bus.js';

export const TYPE_VIRTIO_DEVICE = 'virtio-device';

// Device IDs (include/standard-headers/linux/virtio_ids.h)
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
export const VIRTIO_ID_RNG = 4;
export const VIRTIO_ID_BALLOON = 5;
export const VIRTIO_ID_SCSI = 8;
export const VIRTIO_ID_9P = 9;
export const VIRTIO_ID_GPU = 16;
export const VIRTIO_ID_INPUT = 18;

// Device status bits
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

// Transport feature bits
export const VIRTIO_F_NOTIFY_ON_EMPTY = 24;
export const VIRTIO_F_ANY_LAYOUT = 27;
export const VIRTIO_RING_F_INDIRECT_DESC = 28;
export const VIRTIO_RING_F_EVENT_IDX = 29;
export const VIRTIO_F_BAD_FEATURE = 30;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_IOMMU_PLATFORM = 33;
export const VIRTIO_F_RING_PACKED = 34;
export const VIRTIO_F_ORDER_PLATFORM = 36;
export const VIRTIO_F_RING_RESET = 40;

/** ISR bits: a queue was used (1), the configuration changed (2). */
export const VIRTIO_ISR_QUEUE = 1;
export const VIRTIO_ISR_CONFIG = 2;

export const bit = (n: number): bigint => 1n << BigInt(n);
export const virtioHasFeature = (features: bigint, n: number): boolean => (features & bit(n)) !== 0n;
export const virtioAddFeature = (features: bigint, n: number): bigint => features | bit(n);
export const virtioClearFeature = (features: bigint, n: number): bigint => features & ~bit(n);

/** Where virtio_error() and the core's error_report()s go (stderr, prefixed like the engine's). */
let errorSink: (msg: string) => void = (msg) => process.stderr.write(`vmstudio-engine: ${msg}\n`);

export function setVirtioErrorSink(fn: (msg: string) => void): () => void {
  const prev = errorSink;
  errorSink = fn;
  return () => {
    errorSink = prev;
  };
}

export function virtioReport(msg: string): void {
  errorSink(msg);
}

// ---------------------------------------------------------------------------------------------------------
// Classes

export class VirtioDeviceClass extends DeviceClass {
  /** Device part of realize (QEMU's vdc->realize): virtioInit + queues + backends. Throw to refuse. */
  deviceRealize?: (vdev: VirtIODevice) => void;
  deviceUnrealize?: (vdev: VirtIODevice) => void;
  /** Host features: add the device's bits to `features` (common bits already in). Required. */
  getFeatures?: (vdev: VirtIODevice, features: bigint) => bigint;
  /** Legacy-only bits that modern transports must not offer. */
  legacyFeatures = 0n;
  /** The guest acknowledged `features` (already masked by the host features). */
  setFeatures?: (vdev: VirtIODevice, features: bigint) => void;
  /** At FEATURES_OK (modern): return false to refuse the negotiated set. */
  validateFeatures?: (vdev: VirtIODevice) => boolean;
  getConfig?: (vdev: VirtIODevice, config: Uint8Array) => void;
  setConfig?: (vdev: VirtIODevice, config: Uint8Array) => void;
  /** Device reset (QEMU's vdc->reset). */
  resetDevice?: (vdev: VirtIODevice) => void;
  /** Status is about to become `status` (vdev.status still holds the old value). */
  setStatus?: (vdev: VirtIODevice, status: number) => void;
  /** Device-specific stream after the queues (QEMU's vdc->save/load). */
  save?: (vdev: VirtIODevice, f: VMStateWriter) => void;
  load?: (vdev: VirtIODevice, f: VMStateReader, versionId: number) => void;
  /** Device state described declaratively, saved after `save` (QEMU's vdc->vmsd). */
  devVmsd: VMStateDescription | null = null;
  /** After the whole device state is loaded and the rings re-derived. */
  postLoad?: (vdev: VirtIODevice) => void;
}

export class VirtIODevice extends DeviceState implements VirtQueueOwner {
  /** Device name for messages ("virtio-blk"). */
  name = '';
  deviceId = 0;
  status = 0;
  isr = 0;
  queueSel = 0;
  /** Offered features (properties set the common bits; the device adds its own at plug). */
  hostFeatures = 0n;
  guestFeatures = 0n;
  backendFeatures = 0n;
  configLen = 0;
  config: Uint8Array = new Uint8Array(0);
  configVector = VIRTIO_NO_VECTOR;
  /** Config generation (modern ConfigGeneration register). */
  generation = 0;
  vq: (VirtQueue | undefined)[] = [];
  broken = false;
  started = false;
  startOnKick = false;
  disabled = false;
  useStarted = true;
  useDisabledFlag = true;
  disableLegacyCheck = false;
  /** Guest memory for DMA (set when plugged into a transport). */
  dma: AddressSpace = null as unknown as AddressSpace;
  /** Changes on reset and on loadvm: completions of older requests must be dropped. */
  epoch = 0;

  eventIdx(): boolean {
    return virtioVdevHasFeature(this, VIRTIO_RING_F_EVENT_IDX);
  }

  notifyOnEmpty(): boolean {
    return virtioVdevHasFeature(this, VIRTIO_F_NOTIFY_ON_EMPTY);
  }

  error(msg: string): void {
    virtioError(this, msg);
  }
}

export const VIRTIO_DEVICE = (o: QomObject) => objectCheck<VirtIODevice>(o, TYPE_VIRTIO_DEVICE);
export const VIRTIO_DEVICE_GET_CLASS = (o: QomObject) =>
  objectGetClassAs<VirtioDeviceClass>(o, TYPE_VIRTIO_DEVICE);

// ---------------------------------------------------------------------------------------------------------
// Features and status

export function virtioVdevHasFeature(vdev: VirtIODevice, n: number): boolean {
  return virtioHasFeature(vdev.guestFeatures, n);
}

export function virtioHostHasFeature(vdev: VirtIODevice, n: number): boolean {
  return virtioHasFeature(vdev.hostFeatures, n);
}

/** virtio_device_started(). */
export function virtioDeviceStarted(vdev: VirtIODevice, status: number): boolean {
  if (vdev.useStarted) return vdev.started;
  return (status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
}

function virtioSetStarted(vdev: VirtIODevice, started: boolean): void {
  if (started) vdev.startOnKick = false;
  if (vdev.useStarted) vdev.started = started;
}

/** virtio_set_features_nocheck(): false when the guest asked for bits we do not offer. */
function setFeaturesNocheck(vdev: VirtIODevice, val: bigint): boolean {
  const bad = (val & ~vdev.hostFeatures) !== 0n;
  val &= vdev.hostFeatures;
  VIRTIO_DEVICE_GET_CLASS(vdev).setFeatures?.(vdev, val);
  vdev.guestFeatures = val;
  return !bad;
}

/** virtio_set_features(): refused (false) after FEATURES_OK or with unknown bits. */
export function virtioSetFeatures(vdev: VirtIODevice, val: bigint): boolean {
  // The guest must not change features once it set FEATURES_OK.
  if (vdev.status & VIRTIO_CONFIG_S_FEATURES_OK) return false;
  const ok = setFeaturesNocheck(vdev, val);
  if (ok) {
    if (virtioVdevHasFeature(vdev, VIRTIO_RING_F_EVENT_IDX)) {
      for (const q of vdev.vq) if (q?.ready) q.initRegionCache();
    }
    if (!virtioDeviceStarted(vdev, vdev.status) && !virtioVdevHasFeature(vdev, VIRTIO_F_VERSION_1)) {
      vdev.startOnKick = true;
    }
  }
  return ok;
}

/** virtio_set_status(): false when FEATURES_OK is refused (the status is then left unchanged). */
export function virtioSetStatus(vdev: VirtIODevice, val: number): boolean {
  const k = VIRTIO_DEVICE_GET_CLASS(vdev);
  if (virtioVdevHasFeature(vdev, VIRTIO_F_VERSION_1)) {
    if (!(vdev.status & VIRTIO_CONFIG_S_FEATURES_OK) && val & VIRTIO_CONFIG_S_FEATURES_OK) {
      const iommuOk =
        !virtioHostHasFeature(vdev, VIRTIO_F_IOMMU_PLATFORM) ||
        virtioVdevHasFeature(vdev, VIRTIO_F_IOMMU_PLATFORM);
      if (!iommuOk || (k.validateFeatures && !k.validateFeatures(vdev))) return false;
    }
  }
  if ((vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) !== (val & VIRTIO_CONFIG_S_DRIVER_OK)) {
    virtioSetStarted(vdev, (val & VIRTIO_CONFIG_S_DRIVER_OK) !== 0);
  }
  k.setStatus?.(vdev, val);
  vdev.status = val & 0xff;
  return true;
}

/** virtio_reset(): device and queues back to their power-on state. */
export function virtioReset(vdev: VirtIODevice): void {
  const k = VIRTIO_DEVICE_GET_CLASS(vdev);
  virtioSetStatus(vdev, 0);
  vdev.epoch++;
  k.resetDevice?.(vdev);
  vdev.startOnKick =
    virtioHostHasFeature(vdev, VIRTIO_F_RING_PACKED) && !virtioVdevHasFeature(vdev, VIRTIO_F_VERSION_1);
  vdev.started = false;
  vdev.broken = false;
  vdev.guestFeatures = 0n;
  vdev.queueSel = 0;
  vdev.status = 0;
  vdev.disabled = false;
  vdev.isr = 0;
  vdev.configVector = VIRTIO_NO_VECTOR;
  virtioNotifyVector(vdev, vdev.configVector);
  for (const q of vdev.vq) q?.reset();
}

/**
 * virtio_error(): the guest broke the protocol. Reported once per breakage; the device stops
 * processing until reset; modern drivers see NEEDS_RESET and a config interrupt.
 */
export function virtioError(vdev: VirtIODevice, msg: string): void {
  if (vdev.broken) return;
  virtioReport(`${vdev.name}: ${msg}`);
  if (virtioVdevHasFeature(vdev, VIRTIO_F_VERSION_1)) {
    vdev.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    virtioNotifyConfig(vdev);
  }
  vdev.broken = true;
}

// ---------------------------------------------------------------------------------------------------------
// Interrupts

function virtioNotifyVector(vdev: VirtIODevice, vector: number): void {
  if (vdev.disabled) return;
  const bus = vdev.parentBus;
  if (!bus) return;
  const k = virtioBusClass(bus);
  if (k.notify && bus.parentDevice) k.notify(bus.parentDevice, vector);
}

/** virtio_update_irq(): re-evaluate the interrupt line (after the guest acknowledged ISR bits). */
export function virtioUpdateIrq(vdev: VirtIODevice): void {
  virtioNotifyVector(vdev, VIRTIO_NO_VECTOR);
}

/** virtio_irq(): a queue was used; interrupt unconditionally. */
export function virtioIrq(vq: VirtQueue): void {
  const vdev = vq.owner as VirtIODevice;
  vdev.isr |= VIRTIO_ISR_QUEUE;
  virtioNotifyVector(vdev, vq.vector);
}

/** virtio_notify(): interrupt if the driver wants to hear about what we put in the used ring. */
export function virtioNotify(vdev: VirtIODevice, vq: VirtQueue): boolean {
  if (vdev.broken || !vq.shouldNotify()) return false;
  vdev.isr |= VIRTIO_ISR_QUEUE;
  virtioNotifyVector(vdev, vq.vector);
  return true;
}

/** virtio_notify_config(): the config space changed (only once the driver is up). */
export function virtioNotifyConfig(vdev: VirtIODevice): void {
  if (!(vdev.status & VIRTIO_CONFIG_S_DRIVER_OK)) return;
  vdev.isr |= VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG;
  vdev.generation = (vdev.generation + 1) & 0xff;
  virtioNotifyVector(vdev, vdev.configVector);
}

// ---------------------------------------------------------------------------------------------------------
// Setup

/** virtio_init(): identify the device and size its config space. */
export function virtioInit(vdev: VirtIODevice, deviceId: number, configSize: number): void {
  vdev.deviceId = deviceId;
  vdev.configLen = configSize;
  vdev.config = new Uint8Array(configSize);
  vdev.status = 0;
  vdev.isr = 0;
  vdev.queueSel = 0;
  vdev.configVector = VIRTIO_NO_VECTOR;
  vdev.vq = [];
  vdev.broken = false;
  vdev.started = false;
  vdev.startOnKick = false;
  vdev.name = vdev.name || DEVICE_NAMES[deviceId] || `virtio-${deviceId}`;
  if (!vdev.dma) vdev.dma = addressSpaceMemory();
}

const DEVICE_NAMES: Record<number, string> = {
  [VIRTIO_ID_NET]: 'virtio-net',
  [VIRTIO_ID_BLOCK]: 'virtio-blk',
  [VIRTIO_ID_CONSOLE]: 'virtio-serial',
  [VIRTIO_ID_RNG]: 'virtio-rng',
  [VIRTIO_ID_SCSI]: 'virtio-scsi',
  [VIRTIO_ID_INPUT]: 'virtio-input',
};

/** virtio_add_queue(): a new queue of `size` entries (at most 1024); QEMU aborts beyond that. */
export function virtioAddQueue(
  vdev: VirtIODevice,
  size: number,
  handleOutput: ((vq: VirtQueue) => void) | null,
): VirtQueue {
  if (size <= 0 || size > VIRTQUEUE_MAX_SIZE) throw new Error(`virtio: bad queue size ${size}`);
  let i = vdev.vq.findIndex((q) => q === undefined);
  if (i < 0) i = vdev.vq.length;
  if (i >= VIRTIO_QUEUE_MAX) throw new Error('virtio: too many queues');
  const vq = new VirtQueue(vdev, i, size, handleOutput);
  vdev.vq[i] = vq;
  return vq;
}

/** virtio_delete_queue()/virtio_del_queue(). */
export function virtioDelQueue(vdev: VirtIODevice, n: number): void {
  if (n < 0 || n >= vdev.vq.length) throw new Error(`virtio: no queue ${n}`);
  vdev.vq[n] = undefined;
  while (vdev.vq.length && vdev.vq[vdev.vq.length - 1] === undefined) vdev.vq.pop();
}

export function virtioGetQueue(vdev: VirtIODevice, n: number): VirtQueue | null {
  return vdev.vq[n] ?? null;
}

/** virtio_cleanup(): drop the queues and config (unrealize). */
export function virtioCleanup(vdev: VirtIODevice): void {
  vdev.vq = [];
  vdev.config = new Uint8Array(0);
  vdev.configLen = 0;
}

// ---------------------------------------------------------------------------------------------------------
// Queue configuration by the transport

export function virtioQueueGetNum(vdev: VirtIODevice, n: number): number {
  return vdev.vq[n]?.num ?? 0;
}

/** virtio_queue_set_num(): a queue can neither appear nor vanish, nor exceed 1024 entries. */
export function virtioQueueSetNum(vdev: VirtIODevice, n: number, num: number): void {
  const q = vdev.vq[n];
  if (!q) return;
  if (!!num !== !!q.num || num > VIRTQUEUE_MAX_SIZE || num < 0) return;
  q.num = num;
}

export function virtioQueueGetAddr(vdev: VirtIODevice, n: number): number {
  return vdev.vq[n]?.desc ?? 0;
}

/** virtio_queue_set_addr() (legacy QueuePFN). */
export function virtioQueueSetAddr(vdev: VirtIODevice, n: number, addr: number): void {
  const q = vdev.vq[n];
  if (!q || !q.num) return;
  q.desc = addr;
  q.updateRings();
}

/** virtio_queue_set_rings() (modern QueueReady). */
export function virtioQueueSetRings(
  vdev: VirtIODevice,
  n: number,
  desc: number,
  avail: number,
  used: number,
): void {
  const q = vdev.vq[n];
  if (!q || !q.num) return;
  q.setRings(desc, avail, used);
}

/** virtio_queue_update_rings() (legacy, after QueueNum). */
export function virtioQueueUpdateRings(vdev: VirtIODevice, n: number): void {
  vdev.vq[n]?.updateRings();
}

/** virtio_queue_set_align() (legacy QueueAlign). */
export function virtioQueueSetAlign(vdev: VirtIODevice, n: number, align: number): void {
  if (virtioVdevHasFeature(vdev, VIRTIO_F_VERSION_1)) {
    virtioReport('tried to modify queue alignment for virtio-1 device');
    return;
  }
  const q = vdev.vq[n];
  if (!q || !align) return;
  q.align = align;
  q.updateRings();
}

/** virtio_queue_notify(): the guest kicked queue `n`. */
export function virtioQueueNotify(vdev: VirtIODevice, n: number): void {
  const q = vdev.vq[n];
  if (!q || !q.desc || vdev.broken) return;
  q.handleOutput?.(q);
  if (vdev.startOnKick) virtioSetStarted(vdev, true);
}

// ---------------------------------------------------------------------------------------------------------
// Config space (little-endian; legacy and modern are the same on RISC-V)

function refreshConfig(vdev: VirtIODevice): void {
  VIRTIO_DEVICE_GET_CLASS(vdev).getConfig?.(vdev, vdev.config);
}

/** virtio_config_read{b,w,l}(): out of range reads give all ones. */
export function virtioConfigRead(vdev: VirtIODevice, addr: number, size: 1 | 2 | 4): number {
  if (addr < 0 || addr + size > vdev.configLen) return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
  refreshConfig(vdev);
  const c = vdev.config;
  if (size === 1) return c[addr]!;
  if (size === 2) return c[addr]! | (c[addr + 1]! << 8);
  return (c[addr]! | (c[addr + 1]! << 8) | (c[addr + 2]! << 16) | (c[addr + 3]! << 24)) >>> 0;
}

/** virtio_config_write{b,w,l}(): out of range writes are dropped. */
export function virtioConfigWrite(vdev: VirtIODevice, addr: number, size: 1 | 2 | 4, value: number): void {
  if (addr < 0 || addr + size > vdev.configLen) return;
  const c = vdev.config;
  for (let i = 0; i < size; i++) c[addr + i] = (value >>> (8 * i)) & 0xff;
  VIRTIO_DEVICE_GET_CLASS(vdev).setConfig?.(vdev, c);
}

// ---------------------------------------------------------------------------------------------------------
// Plugging into a transport (virtio_bus_device_plugged / unplugged)

function busPlugged(vdev: VirtIODevice): void {
  const bus = vdev.parentBus!;
  const k = virtioBusClass(bus);
  const transport = bus.parentDevice!;
  const vdc = VIRTIO_DEVICE_GET_CLASS(vdev);
  const hasIommu = virtioHostHasFeature(vdev, VIRTIO_F_IOMMU_PLATFORM);
  k.prePlugged?.(transport);
  if (!vdc.getFeatures) throw new Error(`${vdev.class.type.name}: no getFeatures`);
  vdev.hostFeatures = vdc.getFeatures(vdev, vdev.hostFeatures);
  if (virtioHostHasFeature(vdev, VIRTIO_F_RING_PACKED)) {
    throw errorSetg(`${vdev.name}: packed virtqueues (packed=on) are not supported`);
  }
  k.devicePlugged?.(transport);
  const dma = hasIommu ? (k.getDmaAs?.(transport) ?? null) : null;
  vdev.dma = dma ?? addressSpaceMemory();
}

typeRegister<VirtIODevice, VirtioDeviceClass>({
  name: TYPE_VIRTIO_DEVICE,
  parent: TYPE_DEVICE,
  abstract: true,
  instance: VirtIODevice,
  class: VirtioDeviceClass,
  classInit(vdc) {
    vdc.busType = TYPE_VIRTIO_BUS;
    // Bits a modern (VERSION_1) transport must not offer (VIRTIO_LEGACY_FEATURES).
    vdc.legacyFeatures = bit(VIRTIO_F_BAD_FEATURE) | bit(VIRTIO_F_NOTIFY_ON_EMPTY) | bit(VIRTIO_F_ANY_LAYOUT);
    deviceClassSetProps(vdc, [
      definePropBit64('indirect_desc', 'hostFeatures', VIRTIO_RING_F_INDIRECT_DESC, true),
      definePropBit64('event_idx', 'hostFeatures', VIRTIO_RING_F_EVENT_IDX, true),
      definePropBit64('notify_on_empty', 'hostFeatures', VIRTIO_F_NOTIFY_ON_EMPTY, true),
      definePropBit64('any_layout', 'hostFeatures', VIRTIO_F_ANY_LAYOUT, true),
      definePropBit64('iommu_platform', 'hostFeatures', VIRTIO_F_IOMMU_PLATFORM, false),
      definePropBit64('packed', 'hostFeatures', VIRTIO_F_RING_PACKED, false),
      definePropBit64('queue_reset', 'hostFeatures', VIRTIO_F_RING_RESET, true),
      definePropBool('use-started', 'useStarted', true),
      definePropBool('use-disabled-flag', 'useDisabledFlag', true),
      definePropBool('x-disable-legacy-check', 'disableLegacyCheck', false),
    ]);
    vdc.realize = (dev) => {
      const vdev = dev as VirtIODevice;
      const k = VIRTIO_DEVICE_GET_CLASS(vdev);
      k.deviceRealize?.(vdev);
      try {
        busPlugged(vdev);
      } catch (e) {
        k.deviceUnrealize?.(vdev);
        throw e;
      }
    };
    vdc.unrealize = (dev) => {
      const vdev = dev as VirtIODevice;
      const bus = vdev.parentBus;
      if (bus?.parentDevice) virtioBusClass(bus).deviceUnplugged?.(bus.parentDevice);
      vdev.epoch++;
      VIRTIO_DEVICE_GET_CLASS(vdev).deviceUnrealize?.(vdev);
    };
  },
});

// ---------------------------------------------------------------------------------------------------------
// Migration (virtio_save / virtio_load, VMSTATE_VIRTIO_DEVICE)

/** Marker closing the core's trailer, so a stream from another layout is refused, not misread. */
const TRAILER_MAGIC = 0x76697274; // "virt"

function transportOf(vdev: VirtIODevice): { k: ReturnType<typeof virtioBusClass>; t: DeviceState } | null {
  const bus = vdev.parentBus;
  if (!bus?.parentDevice) return null;
  return { k: virtioBusClass(bus), t: bus.parentDevice };
}

/** virtio_save(). */
export function virtioSave(vdev: VirtIODevice, f: VMStateWriter): void {
  const vdc = VIRTIO_DEVICE_GET_CLASS(vdev);
  const tr = transportOf(vdev);
  tr?.k.saveConfig?.(tr.t, f);
  f.u8(vdev.status);
  f.u8(vdev.isr);
  f.u16(vdev.queueSel);
  f.u32(Number(vdev.guestFeatures & 0xffffffffn));
  refreshConfig(vdev);
  f.u32(vdev.configLen);
  f.bytes(vdev.config.subarray(0, vdev.configLen));
  let count = 0;
  while (count < vdev.vq.length && (vdev.vq[count]?.num ?? 0) !== 0) count++;
  f.u32(count);
  const variableAlign = tr?.k.hasVariableVringAlignment ?? false;
  for (let i = 0; i < count; i++) {
    const q = vdev.vq[i]!;
    f.u32(q.num);
    if (variableAlign) f.u32(q.align);
    f.u64(q.desc);
    f.u16(q.lastAvailIdx);
  }
  vdc.save?.(vdev, f);
  if (vdc.devVmsd) vmstateSaveState(f as QemuFileWriter, vdc.devVmsd, vdev);
  // The parts QEMU sends as vmstate_virtio subsections, always sent here.
  f.u64(vdev.guestFeatures);
  f.u8(vdev.broken ? 1 : 0);
  f.u8(vdev.started ? 1 : 0);
  f.u8(vdev.startOnKick ? 1 : 0);
  f.u8(vdev.disabled ? 1 : 0);
  f.u8(vdev.generation);
  for (let i = 0; i < count; i++) {
    const q = vdev.vq[i]!;
    f.u64(q.avail);
    f.u64(q.used);
    f.u16(q.numDefault);
    f.u16(q.vector);
  }
  const extra = tr?.k.hasExtraState?.(tr.t) ?? false;
  f.u8(extra ? 1 : 0);
  if (extra) tr!.k.saveExtraState!(tr!.t, f);
  f.u32(TRAILER_MAGIC);
}

const loadError = (msg: string) => new MigrationError(EINVAL, msg);

/** virtio_load(): throws a MigrationError (with QEMU's report) when the stream does not fit. */
export function virtioLoad(vdev: VirtIODevice, f: VMStateReader, versionId: number): void {
  const vdc = VIRTIO_DEVICE_GET_CLASS(vdev);
  const tr = transportOf(vdev);
  vdev.epoch++;
  tr?.k.loadConfig?.(tr.t, f);
  vdev.status = f.u8();
  vdev.isr = f.u8();
  vdev.queueSel = f.u16();
  if (vdev.queueSel >= VIRTIO_QUEUE_MAX) throw loadError(`${vdev.name}: bad queue_sel ${vdev.queueSel}`);
  const features32 = BigInt(f.u32());
  vdev.guestFeatures = features32;
  let configLen = f.u32();
  const cfg = f.bytes(configLen);
  vdev.config.set(cfg.subarray(0, Math.min(configLen, vdev.configLen)));
  configLen = Math.min(configLen, vdev.configLen);
  const num = f.u32();
  if (num > VIRTIO_QUEUE_MAX) throw loadError(`Invalid number of virtqueues: 0x${num.toString(16)}`);
  const variableAlign = tr?.k.hasVariableVringAlignment ?? false;
  for (let i = 0; i < num; i++) {
    const q = vdev.vq[i];
    if (!q) throw loadError(`${vdev.name}: stream has queue ${i}, device has ${vdev.vq.length}`);
    const n = f.u32();
    if (n > VIRTQUEUE_MAX_SIZE) throw loadError(`${vdev.name}: queue ${i} size ${n} too big`);
    q.num = n;
    if (variableAlign) q.align = f.u32() || 1;
    q.desc = Number(f.u64());
    q.lastAvailIdx = f.u16();
    q.signalledUsedValid = false;
    q.notification = true;
    if (!q.desc && q.lastAvailIdx) {
      throw loadError(`VQ ${i} address 0x0 inconsistent with Host index 0x${q.lastAvailIdx.toString(16)}`);
    }
  }
  virtioNotifyVector(vdev, VIRTIO_NO_VECTOR);
  vdc.load?.(vdev, f, versionId);
  if (vdc.devVmsd) vmstateLoadState(f as QemuFileReader, vdc.devVmsd, vdev, vdc.devVmsd.versionId);
  const features64 = f.u64();
  vdev.broken = f.u8() !== 0;
  vdev.started = f.u8() !== 0;
  vdev.startOnKick = f.u8() !== 0;
  vdev.disabled = f.u8() !== 0;
  vdev.generation = f.u8();
  for (let i = 0; i < num; i++) {
    const q = vdev.vq[i]!;
    q.avail = Number(f.u64());
    q.used = Number(f.u64());
    f.u16(); // num_default: fixed by the device model
    q.vector = f.u16();
  }
  if (f.u8()) {
    if (!tr?.k.loadExtraState) throw loadError(`${vdev.name}: transport state in the stream but none here`);
    tr.k.loadExtraState(tr.t, f);
  }
  if (f.u32() !== TRAILER_MAGIC) throw loadError(`${vdev.name}: malformed virtio device state`);

  const wanted = features64;
  if (!setFeaturesNocheck(vdev, wanted)) {
    throw loadError(
      `Features 0x${wanted.toString(16)} unsupported. Allowed features: 0x${vdev.hostFeatures.toString(16)}`,
    );
  }
  for (let i = 0; i < num; i++) {
    const q = vdev.vq[i]!;
    if (!q.desc) continue;
    if (virtioVdevHasFeature(vdev, VIRTIO_F_VERSION_1)) q.initRegionCache();
    else q.updateRings();
    const err = q.syncFromRing();
    if (err) throw loadError(err);
  }
  vdc.postLoad?.(vdev);
}

/** The "virtio" field of a device's section (QEMU's VMSTATE_VIRTIO_DEVICE). */
const virtioFieldInfo: VMStateInfo = {
  name: 'virtio',
  size: 0,
  put(out, obj) {
    virtioSave(obj as VirtIODevice, out);
  },
  get(inp, obj) {
    const vdev = obj as VirtIODevice;
    const vmsd = VIRTIO_DEVICE_GET_CLASS(vdev).vmsd as VMStateDescription | null;
    virtioLoad(vdev, inp, vmsd?.versionId ?? 1);
  },
};

/**
 * A virtio device's section: `name` (QEMU's: "virtio-blk", "virtio-rng", ...) at `versionId`,
 * holding the whole virtio stream.
 */
export function virtioDeviceVmsd(
  name: string,
  versionId: number,
  minimumVersionId = versionId,
): VMStateDescription {
  return {
    name,
    versionId,
    minimumVersionId,
    fields: [{ name: 'virtio', kind: 'custom', info: virtioFieldInfo }],
  };
}
