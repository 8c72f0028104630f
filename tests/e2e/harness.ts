/**
 * End-to-end harness: runs the real app (`bin/vmstudio.js --web`) as a child process with a fresh
 * data folder, and Debian's Chromium through playwright-core with a fresh profile.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'e2e');
export const URL_LINE = /^VM Studio web UI: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{43}))$/;

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** The app must be built (npm test builds it); the renderer is rebuilt here when its sources are newer. */
export function ensureBuilt(): void {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main', 'app', 'start.js'))) {
    throw new Error('dist/main is missing: run `npm run build` before the end-to-end tests');
  }
  const index = path.join(ROOT, 'dist', 'renderer', 'index.html');
  const stale =
    !fs.existsSync(index) || fs.statSync(index).mtimeMs < newestMtime(path.join(ROOT, 'renderer', 'src'));
  if (stale) {
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '-c', 'renderer/vite.config.ts'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    if (r.status !== 0) throw new Error(`renderer build failed:\n${r.stdout}\n${r.stderr}`);
  }
}

export interface RunningApp {
  child: ChildProcess;
  url: string;
  port: number;
  token: string;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/**
 * Start the app on `dataDir`. The embedded default VM is off unless `env` turns it back on
 * (VMSTUDIO_NO_DEFAULT_VM: ''), so every test starts from the library it expects.
 */
export async function startApp(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<RunningApp> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'vmstudio.js'), '--web', '--port', '0', '--data-dir', dataDir],
    {
      cwd: ROOT,
      env: { ...process.env, VMSTUDIO_NO_DEFAULT_VM: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL line within 20 s; stderr:\n${err}`)), 20_000);
    const check = () => {
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`app exited with ${code}; stderr:\n${err}`)));
  });
  const m = URL_LINE.exec(line);
  if (!m) throw new Error(`unexpected first line: ${JSON.stringify(line)}`);
  return {
    child,
    url: m[1]!,
    port: Number(m[2]),
    token: m[3]!,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function launchBrowser(
  profileDir: string,
  colorScheme: 'light' | 'dark' = 'light',
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    colorScheme,
  });
}
