/**
 * The web UI end to end: create a VM through the wizard, see it in the list, restart the app and find
 * it again; and the console against a stand-in engine until the real one boots guests.
 * Screenshots go to test-results/e2e/.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAKE_ENGINE } from '../../main/supervisor/testing/fake-engine.js';
import { CHROMIUM, e2eSession, HAS_CHROMIUM, ROOT, shot, vmItem, waitForState } from './harness.js';

if (!HAS_CHROMIUM) {
  console.warn(`Skipping the end-to-end UI tests: ${CHROMIUM} is not installed (apt-get install chromium).`);
}

describe.skipIf(!HAS_CHROMIUM)('web UI end to end', () => {
  const session = e2eSession('web-ui');

  it('creates a VM through the wizard, and finds it again after restarting the app', async () => {
    const app = await session.start('data');

    // Nothing is served without the token.
    const denied = await fetch(`http://127.0.0.1:${app.port}/`);
    expect(denied.status).toBe(403);

    const { page, errors } = await session.open(app);
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

    const item = vmItem(page, 'debian-web');
    await item.waitFor();
    await expect(page.getByTestId('vm-title').textContent()).resolves.toBe('debian-web');
    await expect(item.getByTestId('state-badge').getAttribute('data-state')).resolves.toBe('stopped');
    await shot(page, '04-vm-created');

    await page.getByTestId('tab-config').click();
    await page.getByText('Recent activity').waitFor();
    await shot(page, '05-configuration');
    await page.getByTestId('tab-snapshots').click();
    await shot(page, '06-snapshots');

    expect(errors).toEqual([]);
    // Web mode prints exactly one line.
    expect(app.stdout().trim().split('\n')).toHaveLength(1);

    // Restart the app on the same data folder: the VM is still in the library.
    const { app: again, page: page2 } = await session.restart(app, 'data', 'dark');
    expect(again.token).not.toBe(app.token);
    await vmItem(page2, 'debian-web').waitFor();
    await expect(page2.getByTestId('vm-title').textContent()).resolves.toBe('debian-web');
    await page2.getByTestId('tab-config').click();
    await expect(page2.locator('input[type="number"]').first().inputValue()).resolves.toBe('2');
    await shot(page2, '07-after-restart-dark');
  }, 180_000);

  it('drives a running VM and its serial console (stand-in engine)', async () => {
    const app = await session.start('data-console', { VMSTUDIO_ENGINE_SCRIPT: FAKE_ENGINE });
    const { page, errors } = await session.open(app);
    await page.getByTestId('empty-new-vm').click();
    await page.getByTestId('guest-custom').click();
    await page.getByTestId('wizard-name').fill('console-test');
    // A custom guest needs an existing absolute kernel path: any file will do for the stand-in.
    await page.getByTestId('wizard-kernel').fill(path.join(ROOT, 'package.json'));
    await page.getByTestId('wizard-create').click();
    await page.getByTestId('wizard').waitFor({ state: 'detached' });

    await page.getByTestId('action-start').click();
    await waitForState(page, 'running');
    const term = page.getByTestId('console');
    await term.getByText('login:').waitFor();
    await term.click();
    await page.keyboard.type('root');
    await page.keyboard.press('Enter');
    await term.getByText('login: root').waitFor();
    await shot(page, '08-console-running');

    await page.getByTestId('action-pause').click();
    await waitForState(page, 'paused');
    await page.getByTestId('tab-devices').click();
    await shot(page, '09-paused-devices');
    await page.getByTestId('action-resume').click();
    await waitForState(page, 'running');
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
    await waitForState(page, 'stopped');
    expect(errors).toEqual([]);
  }, 180_000);
});
