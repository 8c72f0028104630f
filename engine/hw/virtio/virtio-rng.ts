/**
 * virtio-rng-device (QEMU's hw/virtio/virtio-rng.c): entropy for the guest's hwrng from an rng
 * backend object (`rng=<id>` of `-object rng-random` / `rng-builtin`; without one, a built-in
 * backend is created as the child "default-backend", as QEMU does).
 *
 * The guest queues writable buffers; we ask the backend for as many bytes as those buffers hold
 * (bounded by the rate-limit quota) and fill them when the bytes arrive. Rate limiting as QEMU:
 * at most `max-bytes` per `period` ms; the quota refills on a timer that starts with the first
 * request of a period. Entropy that arrives while the VM is stopped is dropped (the rings may not
 * change then); the pending buffers are served again when the VM runs.
 */
import { errorSetg } from '../../qapi/error.js';
import {
  objectNew,
  objectPropertyAddChild,
  objectPropertySetLink,
  objectUnref,
  typeRegister,
} from '../../qom/object.js';
import { userCreatableComplete } from '../../qom/object-interfaces.js';
import {
  definePropLink,
  definePropUint32,
  definePropUint64,
  deviceClassSetProps,
  qdevPropLink,
  type PropertyInfo,
} from '../core/qdev-properties.js';
import { TYPE_RNG_BACKEND, rngBackendRequestEntropy, type RngBackend } from '../../backends/rng.js';
import { TYPE_RNG_BUILTIN } from '../../backends/rng-builtin.js';
import { addVmChangeStateHandler, runstateIsRunning } from '../../system/runstate.js';
import {
  TYPE_VIRTIO_DEVICE,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_ID_RNG,
  VirtIODevice,
  VirtioDeviceClass,
  VirtQueue,
  iovFromBuf,
  virtioAddQueue,
  virtioCleanup,
  virtioDeviceVmsd,
  virtioInit,
  virtioNotify,
} from './virtio.js';

export const TYPE_VIRTIO_RNG = 'virtio-rng-device';

const INT64_MAX = (1n << 63n) - 1n;

/** QEMU 7.2's `info qtree` does not list link properties; a throwing print makes ours skip it. */
const linkNotInQtree: PropertyInfo = {
  ...qdevPropLink,
  print() {
    throw new Error('link properties are not printed');
  },
};

export class VirtIORNG extends VirtIODevice {
  /** conf.rng (the `rng` link). */
  rngLink: RngBackend | null = null;
  maxBytes: number | bigint = INT64_MAX;
  periodMs = 1 << 16;
  rngVq: VirtQueue | null = null;
  /** Bytes the guest may still get in this period (may go negative, as in QEMU). */
  quotaRemaining = 0;
  activateTimer = true;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private unregisterVmHandler: (() => void) | null = null;

  private guestReady(): boolean {
    return !!this.rngVq && this.rngVq.ready && (this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
  }

  private maxBytesNum(): number {
    return typeof this.maxBytes === 'bigint' ? Number(this.maxBytes) : this.maxBytes;
  }

  /** virtio_rng_process(): ask the backend for what the queued buffers can take. */
  process(): void {
    if (!this.guestReady() || this.broken) return;
    if (this.activateTimer) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.checkRateLimit(), this.periodMs);
      this.timer.unref?.();
      this.activateTimer = false;
    }
    const quota = this.quotaRemaining < 0 ? 0 : Math.min(this.quotaRemaining, 0xffffffff);
    let size = this.rngVq!.getAvailBytes(quota, 0).inBytes;
    size = Math.min(this.quotaRemaining, size);
    if (size > 0 && this.rngLink) {
      const epoch = this.epoch;
      rngBackendRequestEntropy(this.rngLink, size, (data) => {
        if (epoch === this.epoch) this.chrRead(data);
      });
    }
  }

  /** chr_read(): entropy arrived; fill as many buffers as it covers. */
  chrRead(buf: Uint8Array): void {
    if (!this.guestReady()) return;
    // The rings must not change while the VM is stopped (its state may be being saved).
    if (!runstateIsRunning()) return;
    const vq = this.rngVq!;
    this.quotaRemaining -= buf.length;
    let offset = 0;
    while (offset < buf.length) {
      const elem = vq.pop();
      if (!elem) break;
      const len = iovFromBuf(elem.inSg, 0, buf.subarray(offset));
      offset += len;
      vq.push(elem, len);
    }
    virtioNotify(this, vq);
    if (!vq.isEmpty()) this.process();
  }

  /** check_rate_limit(): a new period starts with a full quota. */
  private checkRateLimit(): void {
    this.timer = null;
    this.quotaRemaining = this.maxBytesNum();
    this.process();
    this.activateTimer = true;
  }

  realizeRng(): void {
    if (this.periodMs <= 0) throw errorSetg("Parameter 'period' expects a positive number");
    if (BigInt(this.maxBytes) > INT64_MAX) {
      throw errorSetg("Parameter 'max-bytes' expects a non-negative integer below 2^63");
    }
    if (this.rngLink === null) {
      const backend = objectNew<RngBackend>(TYPE_RNG_BUILTIN);
      userCreatableComplete(backend);
      objectPropertyAddChild(this, 'default-backend', backend);
      objectUnref(backend);
      objectPropertySetLink(this, 'rng', backend);
    }
    if (this.rngLink === null) throw errorSetg("Parameter 'rng' expects a valid object");
    virtioInit(this, VIRTIO_ID_RNG, 0);
    this.name = 'virtio-rng';
    this.rngVq = virtioAddQueue(this, 8, () => this.process());
    this.quotaRemaining = this.maxBytesNum();
    this.activateTimer = true;
    this.unregisterVmHandler = addVmChangeStateHandler((running) => {
      // An element may be waiting for the CPU to run again (or for a quota refill): retry.
      if (running && this.guestReady()) this.process();
    });
  }

  unrealizeRng(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.unregisterVmHandler?.();
    this.unregisterVmHandler = null;
    this.rngVq = null;
    virtioCleanup(this);
  }
}

typeRegister<VirtIORNG, VirtioDeviceClass>({
  name: TYPE_VIRTIO_RNG,
  parent: TYPE_VIRTIO_DEVICE,
  instance: VirtIORNG,
  classInit(vdc) {
    vdc.categories.add('misc');
    deviceClassSetProps(vdc, [
      // max-bytes is unsigned in QEMU but limited to INT64_MAX at realize.
      definePropUint64('max-bytes', 'maxBytes', INT64_MAX),
      definePropUint32('period', 'periodMs', 1 << 16),
      { ...definePropLink('rng', 'rngLink', TYPE_RNG_BACKEND), info: linkNotInQtree },
    ]);
    vdc.vmsd = virtioDeviceVmsd('virtio-rng', 1);
    vdc.deviceRealize = (vdev) => (vdev as VirtIORNG).realizeRng();
    vdc.deviceUnrealize = (vdev) => (vdev as VirtIORNG).unrealizeRng();
    vdc.getFeatures = (_vdev, f) => f;
    vdc.setStatus = (vdev, status) => {
      // QEMU sets the status first, then looks for buffers.
      const s = vdev as VirtIORNG;
      s.status = status;
      s.process();
    };
    vdc.postLoad = (vdev) => {
      // The quota may have been refilled since the element was queued.
      (vdev as VirtIORNG).process();
    };
  },
});
