/**
 * The device behind `-drive if=virtio` (QEMU's drive_new() queues `-device virtio-blk,drive=<id>`,
 * and the qdev alias table resolves "virtio-blk" to virtio-blk-pci on PCI machines such as riscv's
 * virt, to virtio-blk-ccw on s390x and to virtio-blk-device on m68k's virt).
 *
 * Deviation from QEMU 7.2: our `virt` board has no PCIe host yet, so while virtio-blk-pci does not
 * exist the drive gets a virtio-blk-device, which qdev puts on the next free virtio-mmio transport
 * (as `-device virtio-blk-device,drive=<id>` would). Everything else is QEMU's: the drives are named
 * virtio0, virtio1, ... in query-block, the device is anonymous (/machine/peripheral-anon/device[N])
 * and created after all -device options. Only query-block's "qdev" differs: QEMU shows the PCI
 * proxy's ".../device[N]/virtio-backend" child, we show the virtio-blk-device itself.
 * When a virtio-blk-pci type exists, QEMU's alias applies unchanged.
 */
import { qdict, type QDict } from '../../qobject/qobject.js';
import { typeGetByName } from '../../qom/object.js';
import { TYPE_VIRTIO_BLK } from './virtio-blk.js';

/** -device options for a drive's device: `virtio-blk` becomes virtio-blk-device without PCI. */
export function driveDeviceOptions(dict: QDict): QDict {
  if (dict['driver'] !== 'virtio-blk' || typeGetByName('virtio-blk-pci')) return dict;
  const out = qdict();
  for (const [k, v] of Object.entries(dict)) out[k] = k === 'driver' ? TYPE_VIRTIO_BLK : v;
  return out;
}
