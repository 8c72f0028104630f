/**
 * Where the app's own files are. Found by walking up to our package.json rather than by counting
 * folders, so the same code works from the TypeScript sources (tests), dist/ and a packaged app.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findAppRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'vm-studio') return dir;
    } catch {
      // keep walking
    }
    if (path.dirname(dir) === dir) throw new Error(`VM Studio's package.json not found above ${start}`);
  }
}

export const APP_ROOT = findAppRoot(path.dirname(fileURLToPath(import.meta.url)));

/** Files that must live outside asar in a packaged app (spawned or opened by other processes). */
function unpacked(p: string): string {
  return p.replace(`${path.sep}app.asar${path.sep}`, `${path.sep}app.asar.unpacked${path.sep}`);
}

export const appPaths = {
  root: APP_ROOT,
  renderer: path.join(APP_ROOT, 'dist', 'renderer'),
  preload: path.join(APP_ROOT, 'dist', 'preload', 'preload.cjs'),
  engineScript: unpacked(path.join(APP_ROOT, 'bin', 'vmstudio-engine.js')),
  guests: unpacked(path.join(APP_ROOT, 'assets', 'guests')),
  icon: path.join(APP_ROOT, 'assets', 'icon.png'),
};

/** True when the app runs from an installed package (inside app.asar), not from a source checkout. */
export function isPackagedApp(root = APP_ROOT): boolean {
  return root.split(/[\\/]/).some((part) => part === 'app.asar' || part === 'app.asar.unpacked');
}

/**
 * Where downloaded and built guest files (the default guest's Debian packages and builds) are cached:
 * `$VMSTUDIO_CACHE_DIR`; else, in a source checkout, `<repo>/.cache` (shared with the guest builder's
 * command line, CI and the tests); else `<dataDir>/cache`, because an installed app's own folder is
 * read-only (AppImage, deb, dmg) or replaced by the next update (nsis).
 */
export function guestCacheRoot(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  root = APP_ROOT,
): string {
  if (env.VMSTUDIO_CACHE_DIR) return path.resolve(env.VMSTUDIO_CACHE_DIR);
  if (!isPackagedApp(root)) return path.join(root, '.cache');
  return path.join(dataDir, 'cache');
}

export function appVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(APP_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}
