/**
 * Picks the kernel modules a guest needs and orders them for loading, from the modules' own
 * `.modinfo` (see elf-modinfo.ts): Debian's package has no modules.dep and the host has no depmod.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { readModInfo, readModuleImage, type ModInfo } from './elf-modinfo.js';

const MODULE_FILE = /\.ko(\.xz)?$/;

/** Module names treat '-' and '_' alike (the kernel's KBUILD_MODNAME rule). */
export function normalizeModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** The modules directory of one kernel version (…/lib/modules/<version>). */
export interface ModuleIndex {
  root: string;
  /** Normalised module name -> path relative to `root` (e.g. kernel/fs/ext4/ext4.ko.xz). */
  files: Map<string, string>;
  /** Modules built into the kernel image: nothing to load. */
  builtin: Set<string>;
  /** Aliases provided by built-in modules (from modules.builtin.modinfo). */
  builtinAliases: string[];
}

/** A module chosen for the guest, with its decompressed image. */
export interface ResolvedModule {
  name: string;
  /** Path relative to the modules root, without the compression suffix (kernel/…/x.ko). */
  path: string;
  image: Buffer;
  info: ModInfo;
}

export interface ModuleRequest {
  /** A module name or an alias (e.g. "fs-ext4"). */
  name: string;
  /** Absent optional modules are reported, not fatal. */
  optional?: boolean;
  /**
   * Shipped in the initramfs but not loaded at boot: the kernel asks for it when first needed
   * (e.g. `mount -t ext4` requests "fs-ext4" through /sbin/modprobe and modules.alias).
   */
  onDemand?: boolean;
}

export interface ModuleResolution {
  /** Load order: every module comes after its dependencies. */
  order: ResolvedModule[];
  /** Requested names satisfied by the kernel image itself. */
  builtin: string[];
  /** Optional requests (and soft dependencies) that no module provides. */
  missing: string[];
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) await walk(p, out);
    else if (MODULE_FILE.test(ent.name)) out.push(p);
  }
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

/** Indexes module files by name (file name rule) plus the built-in lists shipped with the kernel. */
export async function indexModules(root: string): Promise<ModuleIndex> {
  const paths: string[] = [];
  await walk(join(root, 'kernel'), paths);
  const files = new Map<string, string>();
  for (const p of paths.sort()) {
    const base = p.slice(p.lastIndexOf(sep) + 1).replace(MODULE_FILE, '');
    files.set(normalizeModuleName(base), relative(root, p).split(sep).join('/'));
  }
  const builtin = new Set<string>();
  for (const line of (await readOptional(join(root, 'modules.builtin'))).split('\n')) {
    const base = line.trim().split('/').pop();
    if (base) builtin.add(normalizeModuleName(base.replace(MODULE_FILE, '')));
  }
  const builtinAliases: string[] = [];
  for (const entry of (await readOptional(join(root, 'modules.builtin.modinfo'))).split('\0')) {
    const m = /^[^.=]+\.alias=(.+)$/.exec(entry);
    if (m?.[1]) builtinAliases.push(m[1]);
  }
  return { root, files, builtin, builtinAliases };
}

/** fnmatch-style pattern (as used in module aliases) to a RegExp. */
export function aliasPattern(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re +=
          '[' +
          glob
            .slice(i + 1, end)
            .replace(/^!/, '^')
            .replace(/\\/g, '\\\\') +
          ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Resolves requests and their hard/soft dependencies into a load order. */
export async function resolveModules(
  index: ModuleIndex,
  requests: ModuleRequest[],
): Promise<ModuleResolution> {
  const loaded = new Map<string, ResolvedModule>();
  const order: ResolvedModule[] = [];
  const done = new Set<string>();
  const active = new Set<string>();
  const builtin: string[] = [];
  const missing: string[] = [];

  const load = async (name: string): Promise<ResolvedModule> => {
    let m = loaded.get(name);
    if (m) return m;
    const rel = index.files.get(name);
    if (!rel) throw new Error(`module '${name}' not found in ${index.root}`);
    const image = await readModuleImage(join(index.root, rel));
    const info = readModInfo(image, rel);
    if (normalizeModuleName(info.name) !== name) {
      throw new Error(`${rel}: .modinfo name '${info.name}' does not match the file name`);
    }
    m = { name, path: rel.replace(/\.xz$/, ''), image, info };
    loaded.set(name, m);
    return m;
  };

  /** Name or alias -> module name, 'builtin', or undefined when nothing provides it. */
  const lookup = async (nameOrAlias: string): Promise<string | undefined> => {
    const n = normalizeModuleName(nameOrAlias);
    if (index.files.has(n)) return n;
    if (index.builtin.has(n) || index.builtinAliases.some((a) => aliasPattern(a).test(nameOrAlias)))
      return 'builtin';
    // Aliases are only known from .modinfo; read the few modules whose name shares the alias's
    // last word (crypto-crc32c -> crc32c_generic) rather than decompressing every module.
    const token = normalizeModuleName(nameOrAlias.replace(/^.*-/, ''));
    if (token.length < 2) return undefined;
    const candidates = [...index.files.keys()]
      .filter((k) => k.includes(token))
      .sort((a, b) => a.length - b.length);
    for (const c of candidates) {
      const m = await load(c);
      if (m.info.aliases.some((a) => aliasPattern(a).test(nameOrAlias))) return c;
    }
    return undefined;
  };

  const visit = async (name: string, neededBy: string | undefined): Promise<void> => {
    if (done.has(name)) return;
    if (active.has(name)) throw new Error(`module dependency cycle through '${name}'`);
    active.add(name);
    let m: ResolvedModule;
    try {
      m = await load(name);
    } catch (e) {
      if (neededBy && !index.files.has(name)) {
        throw new Error(`module '${name}' (needed by '${neededBy}') not found in ${index.root}`);
      }
      throw e;
    }
    for (const dep of m.info.depends) {
      const d = normalizeModuleName(dep);
      if (index.builtin.has(d)) continue;
      await visit(d, name);
    }
    for (const soft of m.info.softdepPre) {
      const d = await lookup(soft);
      if (d === undefined) missing.push(soft);
      else if (d !== 'builtin' && !active.has(d)) await visit(d, name);
    }
    active.delete(name);
    done.add(name);
    order.push(m);
    for (const soft of m.info.softdepPost) {
      const d = await lookup(soft);
      if (d === undefined) missing.push(soft);
      else if (d !== 'builtin' && !active.has(d)) await visit(d, name);
    }
  };

  for (const req of requests) {
    const name = await lookup(req.name);
    if (name === 'builtin') builtin.push(req.name);
    else if (name === undefined) {
      if (!req.optional) throw new Error(`module '${req.name}' not found in ${index.root}`);
      missing.push(req.name);
    } else await visit(name, undefined);
  }
  return { order, builtin, missing };
}

/** All dependencies of `m` (transitively), in depmod's modules.dep order (load from the end). */
function transitiveDeps(m: ResolvedModule, byName: Map<string, ResolvedModule>): ResolvedModule[] {
  const seen = new Set<string>();
  const post: ResolvedModule[] = [];
  const go = (x: ResolvedModule): void => {
    for (const d of x.info.depends) {
      const dm = byName.get(normalizeModuleName(d));
      if (!dm || seen.has(dm.name)) continue;
      seen.add(dm.name);
      go(dm);
      post.push(dm);
    }
  };
  go(m);
  return post.reverse();
}

/** modules.dep, modules.alias and modules.softdep texts for the chosen modules (for modprobe). */
export function depmodFiles(order: ResolvedModule[]): { dep: string; alias: string; softdep: string } {
  const byName = new Map(order.map((m) => [m.name, m]));
  const dep = order.map((m) =>
    `${m.path}: ${transitiveDeps(m, byName)
      .map((d) => d.path)
      .join(' ')}`.trimEnd(),
  );
  const alias = order.flatMap((m) => m.info.aliases.map((a) => `alias ${a} ${m.name}`));
  const softdep = order
    .filter((m) => m.info.softdepPre.length + m.info.softdepPost.length > 0)
    .map((m) =>
      [
        `softdep ${m.name}`,
        ...(m.info.softdepPre.length ? ['pre:', ...m.info.softdepPre] : []),
        ...(m.info.softdepPost.length ? ['post:', ...m.info.softdepPost] : []),
      ].join(' '),
    );
  const text = (lines: string[]): string => (lines.length ? lines.join('\n') + '\n' : '');
  return { dep: text(dep), alias: text(alias), softdep: text(softdep) };
}
