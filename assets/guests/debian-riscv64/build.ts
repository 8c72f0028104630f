/**
 * Builds (once) and caches VM Studio's default guest for the RISC-V `virt` machine from Debian
 * packages: Debian's kernel Image, OpenSBI's fw_dynamic firmware, and a busybox initramfs carrying the
 * virtio drivers. The cache is keyed by the package versions, so a new Debian kernel means a new build.
 *
 *   npx tsx assets/guests/debian-riscv64/build.ts [--cache DIR] [--mirror URI] [--offline] [--refresh]
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findDebianMirror, PrivateApt, run } from '../lib/apt.js';
import { CpioWriter } from '../lib/cpio.js';
import { withDirLock } from '../lib/dir-lock.js';
import { depmodFiles, indexModules, resolveModules, type ModuleRequest } from '../lib/kernel-modules.js';

/** Bump when the build's output changes for the same packages and recipe files. */
const BUILD_FORMAT = 1;
const DAY_MS = 24 * 60 * 60_000;
const RETRY_MS = 10 * 60_000;

/** The files a machine needs to boot the default guest (paths inside the cache). */
export interface DefaultGuest {
  /** Kernel Image (Debian's boot/vmlinux-*, a flat Image with an EFI stub) for `-kernel`. */
  kernel: string;
  /** Uncompressed newc initramfs for `-initrd`. */
  initrd: string;
  /** OpenSBI firmware for `-bios`. */
  firmware: { fwDynamicBin: string; fwDynamicElf: string };
  /** Kernel command line for `-append`. */
  append: string;
  /** Build identity: kernel release plus a hash of package versions and recipe. */
  version: string;
  kernelRelease: string;
  packages: PackageVersion[];
  /** Modules in the initramfs, in load order. */
  modules: string[];
  /** Directory holding this build. */
  dir: string;
}

export interface PackageVersion {
  role: string;
  name: string;
  version: string;
}

export interface EnsureGuestOptions {
  /** Cache directory (default `$VMSTUDIO_CACHE_DIR/guests/debian-riscv64`, else under `<repo>/.cache`). */
  cacheDir?: string;
  /** Re-check the mirror for new package versions when the last check is older than this (default 1 day). */
  maxAgeMs?: number;
  /** Never contact the mirror: use the last resolved versions or the newest build. */
  offline?: boolean;
  /** Progress messages (default: none). */
  log?: (msg: string) => void;
  /** Debian mirror URI (default: VMSTUDIO_DEBIAN_MIRROR, else the host's apt sources). */
  mirror?: string;
  /** Directory holding recipe.json and rootfs/ (default: next to this file). */
  recipeDir?: string;
}

/** The Debian mirror could not be used (no network, no Debian source configured): callers may skip. */
export class MirrorUnavailableError extends Error {
  override readonly name = 'MirrorUnavailableError';
}

interface Recipe {
  suite: string;
  arch: string;
  packages: Record<'kernel' | 'busybox' | 'firmware', string>;
  firmware: { fwDynamicBin: string; fwDynamicElf: string };
  modules: (string | ModuleRequest)[];
  append: string;
}

interface Resolved {
  /** When the versions were last checked against the mirror. */
  time: number;
  /** When the last check failed (mirror unreachable). */
  failedAt?: number;
  mirror: string;
  packages: PackageVersion[];
}

interface Manifest {
  version: string;
  kernelRelease: string;
  packages: PackageVersion[];
  modules: string[];
  missingModules: string[];
  builtinModules: string[];
  append: string;
  mirror: string;
  builtAt: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** recipe.json's directory, also when running from compiled output (dist/…) without the assets. */
function findRecipeDir(): string {
  for (let d = here; ; d = dirname(d)) {
    for (const c of [d, join(d, 'assets', 'guests', 'debian-riscv64')]) {
      if (existsSync(join(c, 'recipe.json')) && existsSync(join(c, 'rootfs'))) return c;
    }
    if (dirname(d) === d)
      throw new Error(`cannot find assets/guests/debian-riscv64/recipe.json above ${here}`);
  }
}

/**
 * `$VMSTUDIO_CACHE_DIR/guests/debian-riscv64`, else `<repo>/.cache/guests/debian-riscv64`, the repo
 * being the nearest ancestor with a package.json (the app passes its own folder, see guestCacheRoot).
 */
export function defaultCacheDir(recipeDir = findRecipeDir()): string {
  if (process.env.VMSTUDIO_CACHE_DIR)
    return join(resolve(process.env.VMSTUDIO_CACHE_DIR), 'guests', 'debian-riscv64');
  for (let d = recipeDir; dirname(d) !== d; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return join(d, '.cache', 'guests', 'debian-riscv64');
  }
  return join(recipeDir, '.cache');
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out.sort();
}

/** Files of rootfs/ that must be executable in the guest. */
function isExecutable(rel: string): boolean {
  return rel === 'init' || /^(usr\/)?s?bin\//.test(rel);
}

/** Hash of everything in the recipe that shapes the output, besides the packages. */
async function recipeHash(recipeDir: string): Promise<string> {
  const h = createHash('sha256').update(`format ${BUILD_FORMAT}\n`);
  h.update(await readFile(join(recipeDir, 'recipe.json')));
  const rootfs = join(recipeDir, 'rootfs');
  for (const f of await listFiles(rootfs)) {
    h.update(`\0${relative(rootfs, f).split(sep).join('/')}\0`).update(await readFile(f));
  }
  return h.digest('hex');
}

function buildKey(kernelRelease: string, packages: PackageVersion[], recipe: string): string {
  const h = createHash('sha256').update(recipe);
  for (const p of packages) h.update(`\0${p.role}\0${p.name}\0${p.version}`);
  return `${kernelRelease}-${h.digest('hex').slice(0, 12)}`;
}

/** Package versions from the private apt lists; the kernel meta package is followed to the real one. */
async function resolvePackages(apt: PrivateApt, recipe: Recipe): Promise<PackageVersion[]> {
  const meta = await apt.show(recipe.packages.kernel);
  const dep = (meta.get('Depends') ?? '')
    .split(',')
    .map((d) => d.trim().split(/[\s|(]/)[0]!)
    .find((d) => /^linux-image-\d/.test(d));
  const kernelName = dep ?? recipe.packages.kernel;
  const out: PackageVersion[] = [];
  for (const [role, name] of [
    ['kernel', kernelName],
    ['busybox', recipe.packages.busybox],
    ['firmware', recipe.packages.firmware],
  ] as const) {
    out.push({ role, name, version: (await apt.show(name)).get('Version')! });
  }
  return out;
}

function manifestToGuest(dir: string, m: Manifest): DefaultGuest {
  return {
    kernel: join(dir, 'Image'),
    initrd: join(dir, 'initrd.cpio'),
    firmware: { fwDynamicBin: join(dir, 'fw_dynamic.bin'), fwDynamicElf: join(dir, 'fw_dynamic.elf') },
    append: m.append,
    version: m.version,
    kernelRelease: m.kernelRelease,
    packages: m.packages,
    modules: m.modules,
    dir,
  };
}

async function loadBuild(cacheDir: string, version: string): Promise<DefaultGuest | undefined> {
  const dir = join(cacheDir, 'builds', version);
  const m = await readJson<Manifest>(join(dir, 'guest.json'));
  return m ? manifestToGuest(dir, m) : undefined;
}

/** The most recently built guest in the cache, if any (for offline use). */
async function newestBuild(cacheDir: string): Promise<DefaultGuest | undefined> {
  let names: string[];
  try {
    names = await readdir(join(cacheDir, 'builds'));
  } catch {
    return undefined;
  }
  const withTime = await Promise.all(
    names.map(async (n) => ({
      n,
      t: (await stat(join(cacheDir, 'builds', n, 'guest.json')).catch(() => undefined))?.mtimeMs,
    })),
  );
  const best = withTime.filter((x) => x.t !== undefined).sort((a, b) => b.t! - a.t!)[0];
  return best ? loadBuild(cacheDir, best.n) : undefined;
}

/** Adds the missing parent directories of `path`, outermost first (the kernel does not create them). */
function addParents(cpio: CpioWriter, path: string): void {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const d = parts.slice(0, i).join('/');
    if (!cpio.has(d)) cpio.addDirectory(d);
  }
}

/** Builds the initramfs and collects the boot files into `out`. */
async function buildInto(
  out: string,
  work: string,
  apt: PrivateApt,
  recipe: Recipe,
  recipeDir: string,
  packages: PackageVersion[],
  version: string,
  expectedRelease: string,
  log: (msg: string) => void,
): Promise<Manifest> {
  log(`downloading ${packages.map((p) => `${p.name} ${p.version}`).join(', ')}`);
  const debs = await apt.download(join(work, 'debs'), packages);
  const root = join(work, 'root');
  await mkdir(root, { recursive: true });
  for (const deb of debs) {
    log(`extracting ${deb.slice(deb.lastIndexOf(sep) + 1)}`);
    await run('dpkg-deb', ['-x', deb, root]);
    await rm(deb); // the kernel package is large; its contents are all we need
  }

  const images = (await readdir(join(root, 'boot'))).filter(
    (f) => f.startsWith('vmlinux-') || f.startsWith('vmlinuz-'),
  );
  if (images.length !== 1)
    throw new Error(`expected one kernel image in the kernel package, found: ${images.join(', ') || 'none'}`);
  const kernelRelease = images[0]!.replace(/^vmlinu[xz]-/, '');
  if (kernelRelease !== expectedRelease) {
    throw new Error(`kernel package ships ${images[0]}, expected release ${expectedRelease}`);
  }
  const modulesRoot = join(root, 'usr', 'lib', 'modules', kernelRelease);

  log('resolving kernel modules');
  const index = await indexModules(modulesRoot);
  const requests = recipe.modules.map((m) => (typeof m === 'string' ? { name: m } : m));
  const mods = await resolveModules(index, requests);
  // Loading every module at boot costs more than the rest of the boot on a slow CPU (ext4.ko alone is
  // 7 MB); modules marked onDemand wait for the kernel's request_module.
  const bootMods = await resolveModules(
    index,
    requests.filter((r) => !r.onDemand),
  );
  const dep = depmodFiles(mods.order);

  const cpio = new CpioWriter();
  for (const d of [
    'bin',
    'sbin',
    'usr',
    'usr/bin',
    'usr/sbin',
    'etc',
    'etc/vmstudio',
    'proc',
    'sys',
    'dev',
    'run',
    'mnt',
    'lib',
    'lib/modules',
  ]) {
    cpio.addDirectory(d);
  }
  cpio.addDirectory('root', { perm: 0o700 });
  cpio.addDirectory('tmp', { perm: 0o1777 });
  // The kernel opens /dev/console before running /init, before devtmpfs is mounted.
  cpio.addCharDevice('dev/console', 5, 1, { perm: 0o600 });
  cpio.addFile('bin/busybox', await readFile(join(root, 'usr', 'bin', 'busybox')), { perm: 0o755 });
  cpio.addSymlink('bin/sh', 'busybox');

  const rootfs = join(recipeDir, 'rootfs');
  for (const f of await listFiles(rootfs)) {
    const rel = relative(rootfs, f).split(sep).join('/');
    addParents(cpio, rel);
    cpio.addFile(rel, await readFile(f), { perm: isExecutable(rel) ? 0o755 : 0o644 });
  }

  const modDir = `lib/modules/${kernelRelease}`;
  cpio.addDirectory(modDir);
  for (const m of mods.order) {
    addParents(cpio, `${modDir}/${m.path}`);
    cpio.addFile(`${modDir}/${m.path}`, m.image);
  }
  cpio.addFile(`${modDir}/modules.dep`, dep.dep);
  cpio.addFile(`${modDir}/modules.alias`, dep.alias);
  cpio.addFile(`${modDir}/modules.softdep`, dep.softdep);
  cpio.addFile('etc/vmstudio/modules.load', bootMods.order.map((m) => `${m.path}\n`).join(''));
  cpio.addFile('etc/vmstudio/version', `${version}\n`);

  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'initrd.cpio'), cpio.toBuffer());
  await copyFile(join(root, 'boot', images[0]!), join(out, 'Image'));
  await copyFile(join(root, recipe.firmware.fwDynamicBin), join(out, 'fw_dynamic.bin'));
  await copyFile(join(root, recipe.firmware.fwDynamicElf), join(out, 'fw_dynamic.elf'));
  if (mods.missing.length) log(`modules not available (skipped): ${mods.missing.join(', ')}`);
  const manifest: Manifest = {
    version,
    kernelRelease,
    packages,
    modules: mods.order.map((m) => m.name),
    missingModules: mods.missing,
    builtinModules: mods.builtin,
    append: recipe.append,
    mirror: apt.mirror,
    builtAt: new Date().toISOString(),
  };
  // Written last: its presence marks a complete build.
  await writeFile(join(out, 'guest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** Kernel release from the kernel package name (linux-image-6.12.7+deb13-riscv64 -> 6.12.7+deb13-riscv64). */
function releaseOf(packages: PackageVersion[]): string {
  const k = packages.find((p) => p.role === 'kernel')!;
  return k.name.replace(/^linux-image-/, '');
}

/** Keeps the newest `keep` builds (plus `current`); older ones are removed. */
async function pruneBuilds(cacheDir: string, current: string, keep: number): Promise<void> {
  const dir = join(cacheDir, 'builds');
  const names = (await readdir(dir)).filter((n) => n !== current);
  const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(dir, n))).mtimeMs })));
  for (const { n } of dated.sort((a, b) => b.t - a.t).slice(Math.max(0, keep - 1))) {
    await rm(join(dir, n), { recursive: true, force: true });
  }
}

/**
 * The default guest's boot files, building them on first use. Checks the mirror for new package
 * versions at most once per `maxAgeMs`; works offline from the cache when the mirror is unreachable.
 * Safe to call from several processes at once.
 */
export async function ensureDefaultGuest(opts: EnsureGuestOptions = {}): Promise<DefaultGuest> {
  const log = opts.log ?? ((): void => {});
  const recipeDir = opts.recipeDir ?? findRecipeDir();
  const cacheDir = resolve(opts.cacheDir ?? defaultCacheDir(recipeDir));
  const recipe = JSON.parse(await readFile(join(recipeDir, 'recipe.json'), 'utf8')) as Recipe;
  const rhash = await recipeHash(recipeDir);
  const resolvedFile = join(cacheDir, 'apt', 'resolved.json');
  const maxAgeMs = opts.maxAgeMs ?? DAY_MS;
  // Versions are re-checked once per maxAgeMs; after a failed check, not again for RETRY_MS.
  const fresh = (r: Resolved | undefined): r is Resolved =>
    !!r &&
    (!!opts.offline ||
      Date.now() - r.time < maxAgeMs ||
      Date.now() - (r.failedAt ?? 0) < Math.min(RETRY_MS, maxAgeMs));

  // Fast path: versions checked recently and that build exists; no lock, no apt.
  let resolved = await readJson<Resolved>(resolvedFile);
  if (fresh(resolved)) {
    const hit = await loadBuild(cacheDir, buildKey(releaseOf(resolved.packages), resolved.packages, rhash));
    if (hit) return hit;
  }

  await mkdir(cacheDir, { recursive: true });
  return withDirLock(join(cacheDir, 'lock'), async () => {
    resolved = await readJson<Resolved>(resolvedFile);
    let apt: PrivateApt | undefined;
    if (!fresh(resolved)) {
      if (opts.offline) {
        const cached = await newestBuild(cacheDir);
        if (cached) return cached;
        throw new MirrorUnavailableError('no cached default guest and offline mode was requested');
      }
      try {
        const mirror = opts.mirror ?? (await findDebianMirror());
        apt = new PrivateApt(join(cacheDir, 'apt'), mirror, recipe.suite, recipe.arch);
        log(`checking ${mirror} ${recipe.suite} for ${recipe.arch} packages`);
        await apt.update();
        resolved = { time: Date.now(), mirror, packages: await resolvePackages(apt, recipe) };
        await writeFile(resolvedFile, JSON.stringify(resolved, null, 2) + '\n');
      } catch (e) {
        const reason = (e as Error).message;
        const previous =
          resolved &&
          (await loadBuild(cacheDir, buildKey(releaseOf(resolved.packages), resolved.packages, rhash)));
        const cached = previous || (await newestBuild(cacheDir));
        if (cached) {
          if (resolved)
            await writeFile(
              resolvedFile,
              JSON.stringify({ ...resolved, failedAt: Date.now() }, null, 2) + '\n',
            );
          log(`warning: ${reason.split('\n')[0]}; using cached guest ${cached.version}`);
          return cached;
        }
        throw new MirrorUnavailableError(`cannot fetch the default guest's packages: ${reason}`);
      }
    }
    const packages = resolved.packages;
    const release = releaseOf(packages);
    const version = buildKey(release, packages, rhash);
    const hit = await loadBuild(cacheDir, version);
    if (hit) return hit;

    apt ??= new PrivateApt(join(cacheDir, 'apt'), resolved.mirror, recipe.suite, recipe.arch);
    // Only the lock holder builds, so anything left in tmp/ is from an interrupted build.
    const tmp = join(cacheDir, 'tmp');
    await rm(tmp, { recursive: true, force: true });
    const work = join(tmp, `build-${process.pid}-${randomBytes(4).toString('hex')}`);
    const out = join(work, 'out');
    try {
      log(`building default guest ${version}`);
      await buildInto(out, work, apt, recipe, recipeDir, packages, version, release, log);
      await mkdir(join(cacheDir, 'builds'), { recursive: true });
      await rename(out, join(cacheDir, 'builds', version)); // atomic publish
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    await pruneBuilds(cacheDir, version, 2);
    log(`built default guest in ${join(cacheDir, 'builds', version)}`);
    return (await loadBuild(cacheDir, version))!;
  });
}

async function main(argv: string[]): Promise<void> {
  const opts: EnsureGuestOptions = { log: (m) => console.error(m) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--cache' && argv[i + 1]) opts.cacheDir = argv[++i];
    else if (a.startsWith('--cache=')) opts.cacheDir = a.slice('--cache='.length);
    else if (a === '--mirror' && argv[i + 1]) opts.mirror = argv[++i];
    else if (a === '--offline') opts.offline = true;
    else if (a === '--refresh') opts.maxAgeMs = 0;
    else if (a === '-h' || a === '--help') {
      console.log('Usage: build.ts [--cache DIR] [--mirror URI] [--offline] [--refresh]');
      return;
    } else throw new Error(`build.ts: invalid option '${a}'`);
  }
  const guest = await ensureDefaultGuest(opts);
  console.log(JSON.stringify(guest, null, 2));
}

const invoked = process.argv[1] ? await realpath(process.argv[1]).catch(() => undefined) : undefined;
if (invoked && pathToFileURL(invoked).href === import.meta.url) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
