/**
 * electron-builder.yml, checked without electron-builder (it needs an Electron binary to run): the
 * keys are ones electron-builder documents, the targets are Linux AppImage + deb, macOS dmg and
 * Windows NSIS, and the globs meet the real build outputs (run after `npm run build`, as `npm test`
 * does): every pattern matches something, everything the app loads at run time (the import graphs of
 * the Electron entry, the engine script and the preload, and the renderer's page) is packaged, and
 * what other processes open (the engine's files, the SQLite addon, the guest manifests) is unpacked
 * from app.asar.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './harness.js';
import { parseYaml, YamlSubsetError, type YamlValue } from './mini-yaml.js';

type Dict = { [key: string]: YamlValue };
const isDict = (v: YamlValue | undefined): v is Dict =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The keys we may use, per section, as electron-builder's configuration reference documents them
 * (Configuration, Directories, Linux/Deb/AppImage, Mac/Dmg, Windows/Nsis options). Not complete:
 * a key outside these lists is either a typo or needs looking up before it is added here.
 */
const KNOWN: Record<string, readonly string[]> = {
  '': [
    'appId',
    'productName',
    'executableName',
    'copyright',
    'directories',
    'files',
    'extraFiles',
    'extraResources',
    'asar',
    'asarUnpack',
    'compression',
    'npmRebuild',
    'nodeGypRebuild',
    'buildDependenciesFromSource',
    'extraMetadata',
    'artifactName',
    'publish',
    'protocols',
    'fileAssociations',
    'electronVersion',
    'electronFuses',
    'linux',
    'deb',
    'rpm',
    'appImage',
    'snap',
    'mac',
    'dmg',
    'pkg',
    'mas',
    'win',
    'nsis',
    'portable',
    'appx',
    'msi',
  ],
  directories: ['output', 'buildResources', 'app'],
  linux: [
    'target',
    'maintainer',
    'vendor',
    'executableName',
    'icon',
    'synopsis',
    'description',
    'category',
    'mimeTypes',
    'desktop',
    'executableArgs',
    'artifactName',
    'asarUnpack',
    'files',
    'publish',
  ],
  'linux.desktop': ['entry', 'desktopActions'],
  deb: [
    'depends',
    'recommends',
    'priority',
    'compression',
    'packageCategory',
    'afterInstall',
    'afterRemove',
    'artifactName',
    'fpm',
  ],
  appImage: ['artifactName', 'license', 'category', 'synopsis', 'description', 'desktop'],
  mac: [
    'target',
    'category',
    'icon',
    'hardenedRuntime',
    'entitlements',
    'entitlementsInherit',
    'identity',
    'notarize',
    'minimumSystemVersion',
    'darkModeSupport',
    'artifactName',
    'extendInfo',
    'gatekeeperAssess',
  ],
  dmg: ['title', 'icon', 'background', 'contents', 'window', 'format', 'artifactName', 'sign'],
  win: [
    'target',
    'icon',
    'artifactName',
    'publisherName',
    'requestedExecutionLevel',
    'signtoolOptions',
    'azureSignOptions',
  ],
  nsis: [
    'oneClick',
    'perMachine',
    'allowElevation',
    'allowToChangeInstallationDirectory',
    'installerIcon',
    'uninstallerIcon',
    'createDesktopShortcut',
    'createStartMenuShortcut',
    'shortcutName',
    'runAfterFinish',
    'deleteAppDataOnUninstall',
    'license',
    'artifactName',
    'menuCategory',
    'include',
    'script',
  ],
};

/**
 * A glob as electron-builder's matcher (minimatch, dot files included) reads it: `**` spans folders,
 * `*` and `?` stay inside one, `{a,b}` is either. A pattern naming a folder also covers what is in it.
 */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) throw new Error(`unbalanced '{' in ${glob}`);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((alt) => globToRegExp(alt).source.slice(1, -1))
        .join('|')})`;
      i = end;
    } else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function matches(glob: string, file: string): boolean {
  const re = globToRegExp(glob);
  // A folder pattern covers its contents.
  for (let p = file; p !== '.' && p !== ''; p = path.posix.dirname(p)) if (re.test(p)) return true;
  return false;
}

/** Files under `dir` (relative to the app root, '/'-separated), skipping what the app never ships. */
function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (['.git', '.cache', 'node_modules', 'release', 'test-results'].includes(rel)) continue;
      walk(rel, out);
    } else out.push(rel);
  }
  return out;
}

/** Relative modules a built JS file loads (static and dynamic imports, require). */
function relativeImports(file: string): string[] {
  const src = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;
  for (let m = re.exec(src); m; m = re.exec(src)) out.push(path.posix.join(path.posix.dirname(file), m[2]!));
  return out;
}

/** Every file reachable from `entries` through relative imports. */
function importGraph(entries: string[]): string[] {
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    if (!fs.existsSync(path.join(ROOT, f))) throw new Error(`${f} is imported but was not built`);
    seen.add(f);
    todo.push(...relativeImports(f));
  }
  return [...seen].sort();
}

const config = (): Dict => {
  const doc = parseYaml(fs.readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8'));
  if (!isDict(doc)) throw new Error('electron-builder.yml is not a mapping');
  return doc;
};
const list = (v: YamlValue | undefined): string[] =>
  v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).map((x) => String(x));

describe('mini-yaml', () => {
  it('reads the subset and refuses the rest with the line', () => {
    expect(
      parseYaml('a: 1\nb:\n  - x\n  - \'y # z\' # c\n  - k: v\n    w: true\nc:\n- d\ne: ~\nf: "q\\""\n'),
    ).toEqual({ a: 1, b: ['x', 'y # z', { k: 'v', w: true }], c: ['d'], e: null, f: 'q"' });
    expect(() => parseYaml('a: [1, 2]')).toThrow(new YamlSubsetError(1, 'unsupported YAML syntax: [1, 2]'));
    expect(() => parseYaml('a: 1\na: 2')).toThrow("line 2: duplicate key 'a'");
    expect(() => parseYaml('a:\n\t- x')).toThrow('line 2: tab indentation');
  });

  it('reads electron-builder.yml as js-yaml does (when eslint brought js-yaml along)', () => {
    let jsYaml: { load(s: string): unknown };
    try {
      jsYaml = createRequire(path.join(ROOT, 'package.json'))('js-yaml') as typeof jsYaml;
    } catch {
      return; // not a dependency of ours: only a cross-check when present
    }
    const src = fs.readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8');
    expect(parseYaml(src)).toEqual(jsYaml.load(src));
  });
});

describe('globs', () => {
  it('match as minimatch does', () => {
    expect(matches('dist/engine/**', 'dist/engine/a/b.js')).toBe(true);
    expect(matches('**/*.map', 'dist/x.js.map')).toBe(true);
    expect(matches('**/*.map', 'x.map')).toBe(true);
    expect(matches('assets/guests/*/guest.json', 'assets/guests/d/guest.json')).toBe(true);
    expect(matches('assets/guests/*/guest.json', 'assets/guests/d/e/guest.json')).toBe(false);
    expect(matches('a/{b,c/d}/**', 'a/c/d/e')).toBe(true);
    expect(matches('a/{b,c/d}/**', 'a/c/e')).toBe(false);
    expect(matches('node_modules/sqlite3', 'node_modules/sqlite3/lib/x.js')).toBe(true);
  });
});

describe('electron-builder.yml', () => {
  it('uses only documented keys, and targets AppImage + deb, dmg and NSIS', () => {
    const c = config();
    const check = (section: string, d: Dict): void => {
      for (const k of Object.keys(d)) expect(KNOWN[section], `${section || 'top level'}: ${k}`).toContain(k);
    };
    check('', c);
    for (const s of Object.keys(KNOWN).filter((s) => s && !s.includes('.'))) if (isDict(c[s])) check(s, c[s]);
    const linux = c.linux as Dict;
    check('linux.desktop', linux.desktop as Dict);
    expect(Object.values((linux.desktop as Dict).entry as Dict).every((v) => typeof v === 'string')).toBe(
      true,
    );

    expect(list(linux.target)).toEqual(['AppImage', 'deb']);
    expect(list((c.mac as Dict).target)).toEqual(['dmg']);
    expect(list((c.win as Dict).target)).toEqual(['nsis']);
    // A deb needs a maintainer "Name <e-mail>": linux.maintainer, else package.json's author with an e-mail.
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      author?: string | { name?: string; email?: string };
    };
    const author = pkg.author;
    const maintainer =
      linux.maintainer ?? (typeof author === 'object' ? `${author.name} <${author.email}>` : author);
    expect(String(maintainer)).toMatch(/^[^<>]+ <[^@\s]+@[^@\s>]+\.[a-z]+>$/);
    // One artifact name template per target kind may not collide: AppImage and deb differ by ext.
    expect(String((c.appImage as Dict).artifactName)).toContain('${ext}');
  });

  it('points at icons that exist and are big enough for every platform (512 px for macOS)', () => {
    const c = config();
    for (const s of ['linux', 'mac', 'win']) {
      const icon = String((c[s] as Dict).icon);
      const png = fs.readFileSync(path.join(ROOT, icon));
      expect(png.subarray(1, 4).toString('latin1'), icon).toBe('PNG');
      expect(Math.min(png.readUInt32BE(16), png.readUInt32BE(20)), icon).toBeGreaterThanOrEqual(512);
    }
  });

  it('packages every file the app loads, and unpacks what other processes open', () => {
    const main = path.join(ROOT, 'dist', 'main', 'electron', 'entry.js');
    if (!fs.existsSync(main)) throw new Error('dist/ is missing: run `npm run build` before this test');
    const c = config();
    const files = list(c.files);
    const unpack = list(c.asarUnpack);
    const include = files.filter((f) => !f.startsWith('!'));
    const exclude = files.filter((f) => f.startsWith('!')).map((f) => f.slice(1));
    const all = walk('');
    // electron-builder always adds the production node_modules; `files` patterns only exclude there.
    const packaged = (f: string): boolean =>
      (f.startsWith('node_modules/') || include.some((g) => matches(g, f))) &&
      !exclude.some((g) => matches(g, f));
    const nodeModules = (dir: string): string[] => {
      const out: string[] = [];
      const rec = (d: string): void => {
        for (const e of fs.readdirSync(path.join(ROOT, d), { withFileTypes: true })) {
          const r = `${d}/${e.name}`;
          if (e.isDirectory()) rec(r);
          else out.push(r);
        }
      };
      rec(dir);
      return out;
    };
    const sqlite = nodeModules('node_modules/better-sqlite3');

    // No dead pattern: each one meets a real file (node_modules ones meet better-sqlite3's).
    for (const g of [...include, ...exclude, ...unpack]) {
      const pool = g.includes('node_modules') ? sqlite : all;
      expect(
        pool.some((f) => matches(g, f)),
        `'${g}' matches nothing`,
      ).toBe(true);
    }

    // Everything loaded at run time is packaged: package.json's main, the engine script, the preload.
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string };
    const appGraph = importGraph([pkg.main, 'dist/preload/preload.cjs']);
    const engineGraph = importGraph(['bin/vmstudio-engine.js']);
    const html = fs.readFileSync(path.join(ROOT, 'dist', 'renderer', 'index.html'), 'utf8');
    const page = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => `dist/renderer/${m[1]}`);
    expect(page.length).toBeGreaterThan(1);
    const missing = [...appGraph, ...engineGraph, ...page, 'package.json', 'assets/icon.png'].filter(
      (f) => !packaged(f),
    );
    expect(missing).toEqual([]);
    expect(appGraph.length).toBeGreaterThan(20);

    // The engine runs as its own process from the unpacked copy: its whole graph must be unpacked.
    const unpacked = (f: string): boolean => unpack.some((g) => matches(g, f));
    expect(engineGraph.filter((f) => !unpacked(f))).toEqual([]);
    // The SQLite addon is loaded with dlopen from disk; its build intermediates are not shipped.
    const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    expect(sqlite).toContain(addon);
    expect(unpacked(addon)).toBe(true);
    expect(packaged(addon)).toBe(true);
    expect(
      sqlite.filter((f) => f.includes('/obj') || f.endsWith('.a') || f.includes('/deps/')).some(packaged),
    ).toBe(false);
    // Guest manifests are read through the unpacked path (main/app/paths.ts), and are packaged.
    const manifests = all.filter((f) => /^assets\/guests\/[^/]+\/guest\.json$/.test(f));
    expect(manifests.length).toBeGreaterThan(0);
    for (const m of manifests) expect(packaged(m) && unpacked(m), m).toBe(true);

    // Nothing test-only ships.
    const shipped = all.filter(packaged);
    expect(shipped.filter((f) => /\.spec\.js$|\.map$|^dist\/tests\/|\/testing\//.test(f))).toEqual([]);
  });
});
