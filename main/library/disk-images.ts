/**
 * Disk images of library VMs: the format of an existing image (read from its header, as QEMU's
 * format probing does for the two formats we attach) and new qcow2 images, made by the engine's own
 * `qemu-img create -f qcow2` code so main and the engine agree on the layout.
 */
import fs from 'node:fs';
import { qcow2Create } from '../../engine/block/qcow2-create.js';
import { parseQcow2Header, QCOW_MAGIC } from '../../engine/block/qcow2-header.js';
import { readSnapshotTable } from '../../engine/block/qcow2-snapshot-table.js';

/** 'qcow2' when the file starts with qcow2's magic, else 'raw' (also for unreadable or short files). */
export function probeImageFormat(file: string): 'qcow2' | 'raw' {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const b = Buffer.alloc(4);
    if (fs.readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32BE(0) === QCOW_MAGIC) return 'qcow2';
  } catch {
    // The engine reports a missing or unreadable image when the VM starts.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
  return 'raw';
}

/** A new, empty qcow2 image of `bytes` (refuses to overwrite an existing file). */
export async function createQcow2Image(file: string, bytes: number): Promise<void> {
  fs.closeSync(fs.openSync(file, 'wx'));
  await qcow2Create({ filename: file, size: bytes });
}

/**
 * Names of the internal snapshots a qcow2 image holds (its snapshot table, read with the engine's
 * parser), or [] for any other file. A damaged table is an error: callers must not take "no
 * snapshots" for granted then, as removing or deleting the image could lose them.
 */
export async function qcow2SnapshotNames(file: string): Promise<string[]> {
  if (probeImageFormat(file) !== 'qcow2') return [];
  const fh = await fs.promises.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const driver = {
      async pread(offset: number, buf: Uint8Array): Promise<void> {
        if (offset + buf.length > size)
          throw new Error(`'${file}': snapshot table beyond the end of the file`);
        await fh.read(buf, 0, buf.length, offset);
      },
    };
    const head = new Uint8Array(Math.min(size, 72));
    await driver.pread(0, head);
    const clusterBits = new DataView(head.buffer).getUint32(20);
    const cluster0 = new Uint8Array(Math.min(size, 2 ** Math.min(clusterBits, 21)));
    await driver.pread(0, cluster0);
    const header = parseQcow2Header(cluster0);
    const table = await readSnapshotTable(driver, header, 2 ** header.clusterBits);
    return table.map((s) => s.name);
  } finally {
    await fh.close();
  }
}
