/**
 * The web UI end to end: create a VM through the wizard, see it in the list, restart the app and find
 * it again; and the console against a stand-in engine until the real one boots guests.
 * Screenshots go to test-results/e2e/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM,
  ensureBuilt,
  launchBrowser,
  ROOT,
  SCREENSHOTS,
  startApp,
  type RunningApp,
} from './harness.js';

const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`Skipping the end-to-end UI tests: ${CHROMIUM} is not installed (apt-get install chromium).`);
}

const FAKE_ENGINE = path.join(ROOT, 'main', 'supervisor', 'testing', 'fake-engine.mjs');

describe.skipIf(!hasChromium)('web UI end to end', () => {
  let tmp: string;
  const apps: RunningApp[] = [];
  const contexts: BrowserContext[] = [];

  beforeAll(() => {
    ensureBuilt();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-e2e-'));
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    for (const a of apps) await a.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function open(app: RunningApp, scheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const ctx = await launchBrowser(fs.mkdtempSync(path.join(tmp, 'profile-')), scheme);
    contexts.push(ctx);
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    (page as Page & { jsErrors?: string[] }).jsErrors = errors;
    await page.goto(app.url);
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });

  it('creates a VM through the wizard, and finds it again after restarting the app', async () => {
    const dataDir = path.join(tmp, 'data');
    const app = await startApp(dataDir);
    apps.push(app);

    // Nothing is served without the token.
    const denied = await fetch(`http://127.0.0.1:${app.port}/`);
    expect(denied.status).toBe(403);

    const page = await open(app);
    // The token was traded for a cookie and removed from the address bar.
    expect(new URL(page.url()).search).toBe('');
    await page.getByRole('heading', { name: 'No virtual machines yet' }).waitFor();
    await shot(page, '01-empty-library');

    await page.getByTestId('new-vm').click();
    const wizard = page.getByTestId('wizard');
    await wizard.waitFor();
    await shot(page, '02-wizard');

    // Validation: an empty name and too many CPUs are refused with messages.
    await page.getByTestId('wizard-name').fill('');
    await page.getByTestId('wizard-cpus').fill('99');
    await page.getByTestId('wizard-create').click();
    await expect(page.getByTestId('error-name').textContent()).resolves.toBe('Give the VM a name.');
    await expect(page.getByTestId('error-cpus').textContent()).resolves.toBe(
      'The number of CPUs must be between 1 and 64.',
    );
    await shot(page, '03-wizard-validation');

    await page.getByTestId('wizard-name').fill('debian-web');
    await page.getByTestId('wizard-cpus').fill('2');
    await page.getByTestId('wizard-memory').fill('1024');
    await page.getByRole('button', { name: 'New disk' }).click();
    await page.getByTestId('wizard-create').click();
    await wizard.waitFor({ state: 'detached' });

    const item = page.locator('[data-testid="vm-item"][data-vm-name="debian-web"]');
    await item.waitFor();
    await expect(page.getByTestId('vm-title').textContent()).resolves.toBe('debian-web');
    await expect(item.getByTestId('state-badge').getAttribute('data-state')).resolves.toBe('stopped');
    await shot(page, '04-vm-created');

    await page.getByTestId('tab-config').click();
    await page.getByText('Recent activity').waitFor();
    await shot(page, '05-configuration');
    await page.getByTestId('tab-snapshots').click();
    await shot(page, '06-snapshots');

    expect((page as Page & { jsErrors?: string[] }).jsErrors).toEqual([]);
    // Web mode prints exactly one line.
    expect(app.stdout().trim().split('\n')).toHaveLength(1);

    // Restart the app on the same data folder: the VM is still in the library.
    expect(await app.stop()).toBe(0);
    const again = await startApp(dataDir);
    apps.push(again);
    expect(again.token).not.toBe(app.token);
    const page2 = await open(again, 'dark');
    await page2.locator('[data-testid="vm-item"][data-vm-name="debian-web"]').waitFor();
    await expect(page2.getByTestId('vm-title').textContent()).resolves.toBe('debian-web');
    await page2.getByTestId('tab-config').click();
    await expect(page2.locator('input[type="number"]').first().inputValue()).resolves.toBe('2');
    await shot(page2, '07-after-restart-dark');
  }, 180_000);

  it('drives a running VM and its serial console (stand-in engine)', async () => {
    const app = await startApp(path.join(tmp, 'data-console'), { VMSTUDIO_ENGINE_SCRIPT: FAKE_ENGINE });
    apps.push(app);
    const page = await open(app);
    await page.getByTestId('empty-new-vm').click();
    await page.getByTestId('guest-custom').click();
    await page.getByTestId('wizard-name').fill('console-test');
    // A custom guest needs an existing absolute kernel path: any file will do for the stand-in.
    await page.getByTestId('wizard-kernel').fill(path.join(ROOT, 'package.json'));
    await page.getByTestId('wizard-create').click();
    await page.getByTestId('wizard').waitFor({ state: 'detached' });

    await page.getByTestId('action-start').click();
    await page.locator('[data-testid="vm-item"] [data-testid="state-badge"][data-state="running"]').waitFor();
    const term = page.getByTestId('console');
    await term.getByText('login:').waitFor();
    await term.click();
    await page.keyboard.type('root');
    await page.keyboard.press('Enter');
    await term.getByText('login: root').waitFor();
    await shot(page, '08-console-running');

    await page.getByTestId('action-pause').click();
    await page.locator('[data-testid="vm-item"] [data-testid="state-badge"][data-state="paused"]').waitFor();
    await page.getByTestId('tab-devices').click();
    await shot(page, '09-paused-devices');
    await page.getByTestId('action-resume').click();
    await page.locator('[data-testid="vm-item"] [data-testid="state-badge"][data-state="running"]').waitFor();
    // The QMP console for power users.
    await page.getByTestId('tab-qmp').click();
    await page.getByTestId('qmp-input').fill('query-status');
    await page.getByTestId('qmp-input').press('Enter');
    await page.getByTestId('qmp-log').getByText('"status": "running"').waitFor();
    await page.getByTestId('qmp-input').fill('no-such-command');
    await page.getByTestId('qmp-input').press('Enter');
    await page.getByTestId('qmp-log').getByText('The command no-such-command has not been found').waitFor();
    await shot(page, '10-qmp-console');

    await page.getByTestId('action-stop').click();
    await page.locator('[data-testid="vm-item"] [data-testid="state-badge"][data-state="stopped"]').waitFor();
    expect((page as Page & { jsErrors?: string[] }).jsErrors).toEqual([]);
  }, 180_000);
});
