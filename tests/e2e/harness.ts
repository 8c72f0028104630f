/**
 * End-to-end harness: runs the real app (`bin/vmstudio.js --web`) as a child process with a fresh
 * data folder, and Debian's Chromium through playwright-core with a fresh profile. `e2eSession`
 * gives a spec file all of it with the clean-up; the page helpers name the UI's shared test ids.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'e2e');
/** The browser the end-to-end specs drive; without it they are skipped. */
export const HAS_CHROMIUM = fs.existsSync(CHROMIUM);
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

/** A page on the app, with the page errors and console errors it has logged so far. */
export interface OpenPage {
  page: Page;
  errors: string[];
}

/** What a spec file's tests share: a temporary folder, and apps and browsers closed after them all. */
export interface E2eSession {
  /** Start the app on `<tmp>/<dataName>` (the same name again: the same library, as after a restart). */
  start(dataName: string, env?: NodeJS.ProcessEnv): Promise<RunningApp>;
  /** A fresh browser profile on `app`'s URL, recording every page error and console error. */
  open(app: RunningApp, colorScheme?: 'light' | 'dark'): Promise<OpenPage>;
  /**
   * Restart the app: `app` must exit cleanly (code 0), then a new main process on the same data
   * folder, opened in a fresh browser.
   */
  restart(
    app: RunningApp,
    dataName: string,
    colorScheme?: 'light' | 'dark',
  ): Promise<OpenPage & { app: RunningApp }>;
}

/**
 * How long a suite's set-up may take: past vitest's 10 s hook default, since `ensureBuilt` may
 * rebuild the renderer (with every e2e spec file doing the same at once on a busy machine).
 */
const SETUP_MS = 180_000;

/**
 * Register the suite's hooks (call it inside `describe`): before all tests, wait for `ready`, check
 * the build and make a temporary folder; after them, close every browser, stop every app and remove
 * the folder (VMSTUDIO_E2E_KEEP=1 keeps it, with the library and engine logs, for a post-mortem).
 */
export function e2eSession(name: string, ready?: () => Promise<unknown>): E2eSession {
  let tmp = '';
  const apps: RunningApp[] = [];
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    await ready?.();
    ensureBuilt();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), `vmstudio-e2e-${name}-`));
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  }, SETUP_MS);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    for (const a of apps) await a.stop();
    if (tmp && process.env.VMSTUDIO_E2E_KEEP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
    else if (tmp) console.log(`${name}: data kept in ${tmp}`);
  });

  const session: E2eSession = {
    async start(dataName, env) {
      const app = await startApp(path.join(tmp, dataName), env);
      apps.push(app);
      return app;
    },
    async restart(app, dataName, colorScheme) {
      expect(await app.stop()).toBe(0);
      const again = await session.start(dataName);
      return { app: again, ...(await session.open(again, colorScheme)) };
    },
    async open(app, colorScheme = 'light') {
      const ctx = await launchBrowser(fs.mkdtempSync(path.join(tmp, 'profile-')), colorScheme);
      contexts.push(ctx);
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(app.url);
      return { page, errors };
    },
  };
  return session;
}

/**
 * Create a VM on QEMU's empty `none` machine through the wizard's advanced options: a custom guest,
 * 1 CPU, 64 MiB, `devices` as -device options (one a line). `beforeCreate` runs on the filled form.
 */
export async function createNoneMachineVm(
  page: Page,
  name: string,
  devices: readonly string[],
  beforeCreate?: () => Promise<unknown>,
): Promise<void> {
  await page.getByTestId('empty-new-vm').click();
  await page.getByTestId('guest-custom').click();
  await page.getByTestId('wizard-name').fill(name);
  await page.getByTestId('wizard-advanced').click();
  await page.getByTestId('wizard-machine').selectOption('none');
  await page.getByTestId('wizard-devices').fill(devices.join('\n'));
  await page.getByTestId('wizard-cpus').fill('1');
  await page.getByTestId('wizard-memory').fill('64');
  await beforeCreate?.();
  await page.getByTestId('wizard-create').click();
  await page.getByTestId('wizard').waitFor({ state: 'detached' });
}

/** A screenshot to test-results/e2e/<name>.png. */
export function shot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** Wait until the VM list shows a VM in `state` (the specs keep one VM per library). */
export function waitForState(page: Page, state: string, timeout?: number): Promise<void> {
  return page
    .locator(`[data-testid="vm-item"] [data-testid="state-badge"][data-state="${state}"]`)
    .waitFor(timeout === undefined ? {} : { timeout });
}

/** The VM list's entry for the VM named `name`. */
export function vmItem(page: Page, name: string): Locator {
  return page.locator(`[data-testid="vm-item"][data-vm-name="${name}"]`);
}

/** The Snapshots tab's row for the snapshot shown as `name`. */
export function snapshotRow(page: Page, name: string): Locator {
  return page.locator(`[data-testid="snapshot-row"][data-name="${name}"]`);
}

/** Ask to revert to snapshot `name` from the Snapshots tab; the revert dialog that opens. */
export async function openRevertDialog(page: Page, name: string): Promise<Locator> {
  await page.getByTestId('tab-snapshots').click();
  await snapshotRow(page, name).click();
  await snapshotRow(page, name).getByTestId('snapshot-revert').click();
  return page.getByTestId('revert-dialog');
}
