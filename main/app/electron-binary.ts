/**
 * Is Electron usable here? The `electron` npm package is optional and its binary is fetched
 * separately; without the binary (its path.txt is missing) the app falls back to web mode.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export function insideElectron(): boolean {
  return typeof process.versions.electron === 'string';
}

/** The Electron executable, or null when the package or its binary is not installed. */
export function findElectronBinary(): string | null {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = path.join(pkgDir, 'path.txt');
  if (!fs.existsSync(pathFile)) return null;
  const rel = fs.readFileSync(pathFile, 'utf8').trim();
  const exe = process.env.ELECTRON_OVERRIDE_DIST_PATH
    ? path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron')
    : path.join(pkgDir, 'dist', rel);
  return rel && fs.existsSync(exe) ? exe : null;
}
