/**
 * A library VM's disks as files: new images are made in the VM's folder (qcow2 when asked: memory
 * snapshots live in a VM's first qcow2 disk; else sparse raw), existing images are attached where
 * they are, format probed. Only images VM Studio made ("owned", inside the VM folder) may ever be
 * deleted with their disk, and never while they hold snapshots.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DiskConfig, DiskRequest } from '../api/contract.js';
import { ValidationError } from '../api/validate.js';
import { joinOptions, splitOptions } from '../devices/option-string.js';
import { createQcow2Image, probeImageFormat, qcow2SnapshotNames } from './disk-images.js';

/** `disk<N>.<ext>` with the lowest N not used by any image in the folder (so a new file never
 * takes the name of a removed disk's kept file). */
function freeImagePath(folder: string, ext: string): string {
  for (let i = 0; ; i++) {
    if (
      !fs.existsSync(path.join(folder, `disk${i}.img`)) &&
      !fs.existsSync(path.join(folder, `disk${i}.qcow2`))
    )
      return path.join(folder, `disk${i}.${ext}`);
  }
}

/** True when VM Studio made the image for this VM (it sits in the VM's folder). */
export function isOwnedImage(file: string, vmFolder: string): boolean {
  const rel = path.relative(vmFolder, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Disk configs for the requests (and a template's disk, copied first), creating new images in
 * `folder`. On an error the images made so far are removed again.
 */
export async function materializeDisks(
  folder: string,
  requests: readonly DiskRequest[],
  templateDisk: string | null = null,
  existing: readonly DiskConfig[] = [],
): Promise<DiskConfig[]> {
  const disks: DiskConfig[] = [];
  const made: string[] = [];
  try {
    if (templateDisk) {
      fs.mkdirSync(folder, { recursive: true });
      const file = freeImagePath(folder, 'img');
      fs.copyFileSync(templateDisk, file, fs.constants.COPYFILE_FICLONE | fs.constants.COPYFILE_EXCL);
      made.push(file);
      disks.push({ file, format: probeImageFormat(file), interface: 'virtio', readonly: false });
    }
    for (const r of requests) {
      const base = { interface: r.interface ?? 'virtio', readonly: r.readonly ?? false };
      if (r.file) {
        const n = [...existing, ...disks].findIndex((d) => d.file === r.file);
        if (n >= 0) throw new ValidationError(`'${r.file}' is already disk ${n} of this VM`);
        disks.push({ ...base, format: r.format ?? probeImageFormat(r.file), file: r.file });
        continue;
      }
      fs.mkdirSync(folder, { recursive: true });
      const bytes = (r.sizeMiB ?? 0) * 1024 * 1024;
      if (r.format === 'qcow2') {
        const file = freeImagePath(folder, 'qcow2');
        made.push(file);
        await createQcow2Image(file, bytes);
        disks.push({ ...base, format: 'qcow2', file });
      } else {
        const file = freeImagePath(folder, 'img');
        const fd = fs.openSync(file, 'wx');
        made.push(file);
        try {
          fs.ftruncateSync(fd, bytes);
        } finally {
          fs.closeSync(fd);
        }
        disks.push({ ...base, format: 'raw', file });
      }
    }
    return disks;
  } catch (e) {
    for (const f of made) fs.rmSync(f, { force: true });
    throw e;
  }
}

/**
 * Why disk `index` of the VM cannot be removed now, or null. A qcow2 image holding internal snapshots
 * keeps them (the disk part of every snapshot, the memory of the first disk's): removing the disk would
 * make those snapshots unrevertable and, for the first disk, lose them from the library.
 */
export async function diskRemovalBlocker(
  vmName: string,
  disks: readonly DiskConfig[],
  index: number,
  /** The library's display name of an engine snapshot tag (snapshots taken elsewhere keep theirs). */
  displayName: (tag: string) => string = (tag) => tag,
): Promise<string | null> {
  const d = disks[index];
  if (!d) return `VM '${vmName}' has no disk ${index}`;
  let names: string[];
  try {
    names = await qcow2SnapshotNames(d.file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // a missing file holds nothing
    return `Could not read the snapshots in '${d.file}': ${(e as Error).message}`;
  }
  if (names.length === 0) return null;
  const shown = names.slice(0, 3).map((n) => `'${displayName(n)}'`);
  if (names.length > 3) shown.push(`${names.length - 3} more`);
  const what =
    names.length === 1 ? `the snapshot ${shown[0]}` : `${names.length} snapshots (${shown.join(', ')})`;
  return `Disk ${index} ('${path.basename(d.file)}') holds ${what}: delete ${names.length === 1 ? 'it' : 'them'} in Snapshots first`;
}

/** `drive=disk<N>` or `drive=disk<N>-node` in a -device option (a configured disk's drive or node). */
const DRIVE_REF = /^drive=disk(\d+)(-node)?$/;

/**
 * The configured devices after disk `removed` goes: disks are numbered by position, so references
 * to later disks move down by one. `users` lists the devices that use the removed disk itself (the
 * removal must be refused then: the device would start without it, or on another disk).
 */
export function devicesAfterDiskRemoval(
  devices: readonly string[],
  removed: number,
): { devices: string[]; users: string[] } {
  const users: string[] = [];
  const out = devices.map((d) => {
    const parts = splitOptions(d);
    let changed = false;
    const next = parts.map((p) => {
      const m = DRIVE_REF.exec(p);
      if (!m) return p;
      const k = Number(m[1]);
      if (k === removed) users.push(d);
      if (k <= removed) return p;
      changed = true;
      return `drive=disk${k - 1}${m[2] ?? ''}`;
    });
    return changed ? joinOptions(next) : d;
  });
  return { devices: out, users };
}
