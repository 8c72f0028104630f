/**
 * A private apt configuration for fetching foreign-architecture Debian packages without touching the
 * host's apt state. The mirror is read from the host's own apt sources at run time so no registry host
 * is written in code (and a local mirror or proxy configured for the host is honoured).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';

export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** One `deb` source found in an apt configuration. */
export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  signedBy: string | undefined;
  /** File the entry came from, for messages. */
  file: string;
}

/** Parses deb822 `.sources` text: stanzas separated by blank lines, `#` comments, continuation lines. */
export function parseDeb822Sources(text: string, file = '<deb822>'): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields.set(last, m[2]!.trim());
    }
    const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb') || fields.get('enabled')?.toLowerCase() === 'no') continue;
    for (const uri of words('uris')) {
      out.push({
        uri,
        suites: words('suites'),
        components: words('components'),
        signedBy: fields.get('signed-by'),
        file,
      });
    }
  }
  return out;
}

/** Parses one-line `deb [opts] uri suite components...` entries. */
export function parseOneLineSources(text: string, file = '<sources.list>'): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const signed = /(?:^|\s)signed-by=(\S+)/.exec(m[1] ?? '');
    out.push({
      uri: m[2]!,
      suites: [m[3]!],
      components: m[4]!.split(/\s+/).filter(Boolean),
      signedBy: signed?.[1],
      file,
    });
  }
  return out;
}

/** True for an entry of the main Debian archive (not security, not Ubuntu or third-party repos). */
export function isMainDebianArchive(s: AptSource): boolean {
  const security = /-security\/?$/.test(s.uri) || s.suites.some((x) => x.endsWith('-security'));
  const debian = /\/debian\/?$/.test(s.uri) || /debian-archive-keyring/.test(s.signedBy ?? '');
  return debian && !security && s.components.includes('main');
}

/** Every `deb` entry of the host's apt configuration, in apt's reading order. */
export async function readSystemSources(etcApt = '/etc/apt'): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const tryRead = async (p: string): Promise<string | undefined> => {
    try {
      return await readFile(p, 'utf8');
    } catch {
      return undefined;
    }
  };
  const main = await tryRead(join(etcApt, 'sources.list'));
  if (main) out.push(...parseOneLineSources(main, join(etcApt, 'sources.list')));
  let names: string[] = [];
  try {
    names = (await readdir(join(etcApt, 'sources.list.d'))).sort();
  } catch {
    /* no sources.list.d */
  }
  for (const n of names) {
    const p = join(etcApt, 'sources.list.d', n);
    const text = n.endsWith('.sources') || n.endsWith('.list') ? await tryRead(p) : undefined;
    if (text === undefined) continue;
    out.push(...(n.endsWith('.sources') ? parseDeb822Sources(text, p) : parseOneLineSources(text, p)));
  }
  return out;
}

/**
 * The Debian mirror URI to use: `VMSTUDIO_DEBIAN_MIRROR` if set (for hosts whose apt is not Debian's,
 * e.g. Ubuntu CI runners), else the first main Debian archive entry of the host's apt sources.
 */
export async function findDebianMirror(etcApt = '/etc/apt', env = process.env): Promise<string> {
  const override = env['VMSTUDIO_DEBIAN_MIRROR']?.trim();
  if (override) return override;
  const src = (await readSystemSources(etcApt)).find(isMainDebianArchive);
  if (!src) {
    throw new Error(
      `no Debian archive found in ${etcApt}/sources.list{,.d}; set VMSTUDIO_DEBIAN_MIRROR to a Debian mirror URI`,
    );
  }
  return src.uri;
}

/** Files of one private apt configuration for `arch` packages of `suite`. */
export class PrivateApt {
  readonly options: string[];

  constructor(
    readonly dir: string,
    readonly mirror: string,
    readonly suite: string,
    readonly arch: string,
  ) {
    this.options = [
      `Dir::Etc::SourceList=${join(dir, 'sources.list')}`,
      'Dir::Etc::SourceParts=/dev/null',
      'Dir::Etc::Preferences=/dev/null',
      'Dir::Etc::PreferencesParts=/dev/null',
      `Dir::State::Lists=${join(dir, 'lists')}`,
      `Dir::Cache=${join(dir, 'cache')}`,
      'Dir::State::status=/dev/null',
      `APT::Architecture=${arch}`,
      `APT::Architectures::=${arch}`,
      // As root apt drops to the _apt user, which cannot write into our private dirs.
      ...(process.getuid?.() === 0 ? ['APT::Sandbox::User=root'] : []),
    ].flatMap((o) => ['-o', o]);
  }

  private async prepare(): Promise<void> {
    await mkdir(join(this.dir, 'lists', 'partial'), { recursive: true });
    await mkdir(join(this.dir, 'cache', 'archives', 'partial'), { recursive: true });
    const line = `deb [arch=${this.arch} signed-by=${DEBIAN_KEYRING}] ${this.mirror} ${this.suite} main\n`;
    await writeFile(join(this.dir, 'sources.list'), line);
  }

  /** `apt-get update` into the private lists directory. */
  async update(): Promise<void> {
    if (!existsSync(DEBIAN_KEYRING)) {
      throw new Error(`${DEBIAN_KEYRING} not found (install the debian-archive-keyring package)`);
    }
    await this.prepare();
    // One retry: transient errors are retried, an unreachable mirror is reported within seconds.
    const out = await run('apt-get', [...this.options, '-o', 'Acquire::Retries=1', '-q', 'update']);
    // apt-get update exits 0 even when a source failed; its "W:"/"E:" lines say so.
    const failed = /^(E:|W: Failed to fetch|Err:)/m.exec(out.all);
    if (failed) throw new Error(`apt-get update (${this.mirror} ${this.suite}) failed:\n${out.all.trim()}`);
  }

  /** The newest candidate's control fields (`apt-cache show --no-all-versions`). */
  async show(pkg: string): Promise<Map<string, string>> {
    const out = await run('apt-cache', [...this.options, 'show', '--no-all-versions', pkg]);
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of out.stdout.split('\n')) {
      if (line === '') {
        if (fields.size) break;
        continue;
      }
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)}\n${line}`);
        continue;
      }
      const m = /^([^:\s]+):\s?(.*)$/.exec(line);
      if (m) fields.set((last = m[1]!), m[2]!);
    }
    if (!fields.get('Version')) throw new Error(`apt-cache: no candidate for package '${pkg}'`);
    return fields;
  }

  /** Downloads `name=version` packages into `dest`; returns the .deb paths in request order. */
  async download(dest: string, pkgs: { name: string; version: string }[]): Promise<string[]> {
    await mkdir(dest, { recursive: true });
    await chmod(dest, 0o755);
    await run(
      'apt-get',
      [...this.options, '-q', 'download', ...pkgs.map((p) => `${p.name}=${p.version}`)],
      dest,
    );
    const files = await readdir(dest);
    return pkgs.map((p) => {
      const f = files.find((x) => x.startsWith(`${p.name}_`) && x.endsWith('.deb'));
      if (!f) throw new Error(`apt-get download: ${p.name} ${p.version} not found in ${dest}`);
      return join(dest, f);
    });
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
  all: string;
}

/** Runs a tool; failures carry the command and its output. */
export function run(cmd: string, args: string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd, maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        const all = `${stdout}${stderr}`;
        if (err) {
          const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
          const shown = args.filter((a, i) => a !== '-o' && args[i - 1] !== '-o').join(' ');
          reject(new Error(missing ? `${cmd}: command not found` : `${cmd} ${shown} failed:\n${all.trim()}`));
        } else resolve({ stdout, stderr, all });
      },
    );
  });
}
