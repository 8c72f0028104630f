/**
 * Browsing the host's folders for the file pickers (kernel, initrd, firmware, disk images). The same
 * in the Electron window and in web mode (where a browser cannot hand over real paths): one folder
 * at a time, folders first, hidden entries left out, at most MAX_ENTRIES.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DirListing } from './contract.js';
import { ValidationError } from './validate.js';

const MAX_ENTRIES = 2000;

function openError(dir: string, e: unknown): ValidationError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'No such file or directory'
      : code === 'EACCES' || code === 'EPERM'
        ? 'Permission denied'
        : code === 'ENOTDIR'
          ? 'Not a directory'
          : (e as Error).message;
  return new ValidationError(`Could not open '${dir}': ${why}`);
}

/** The entries of `dir` (default: the user's home folder); `dir` must be an absolute path. */
export async function listDirectory(dir: unknown, home = os.homedir()): Promise<DirListing> {
  if (dir !== undefined && dir !== null && typeof dir !== 'string')
    throw new ValidationError("Parameter 'dir' expects a string");
  const raw = dir || home;
  if (!path.isAbsolute(raw)) throw new ValidationError(`The folder path must be absolute: '${raw}'`);
  const at = path.resolve(raw);
  let dirents: fs.Dirent[];
  try {
    dirents = await fs.promises.readdir(at, { withFileTypes: true });
  } catch (e) {
    throw openError(at, e);
  }
  const entries: DirListing['entries'] = [];
  for (const d of dirents) {
    if (d.name.startsWith('.')) continue;
    const p = path.join(at, d.name);
    let kind: 'dir' | 'file' | null = d.isDirectory() ? 'dir' : d.isFile() ? 'file' : null;
    let size: number | null = null;
    if (d.isSymbolicLink() || kind === 'file') {
      const st = await fs.promises.stat(p).catch(() => null);
      kind = st?.isDirectory() ? 'dir' : st?.isFile() ? 'file' : null;
      size = st?.isFile() ? st.size : null;
    }
    if (kind) entries.push({ name: d.name, path: p, kind, sizeBytes: size });
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
  const parent = path.dirname(at);
  return {
    dir: at,
    parent: parent === at ? null : parent,
    entries: entries.slice(0, MAX_ENTRIES),
    truncated: entries.length > MAX_ENTRIES,
  };
}
