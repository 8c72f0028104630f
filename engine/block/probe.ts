/** Format probing (QEMU's bdrv_probe_all()): qcow2 by its magic, anything else is raw. */
import { QCOW_MAGIC } from './qcow2-header.js';

export function probeFormat(head: Uint8Array): 'qcow2' | 'raw' {
  if (head.length >= 8) {
    const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
    if (v.getUint32(0) === QCOW_MAGIC) return 'qcow2';
  }
  return 'raw';
}
