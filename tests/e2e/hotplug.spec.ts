/**
 * Hotplug end to end against the REAL engine: a VM on the empty `none` machine with the test bridge
 * (a hotplug-capable bus whose emulated guest acknowledges unplugs after a delay). Through the web UI:
 * start it, read the live device tree, add a vmstudio-test-device through the generated dialog
 * (validation, then a property), see it in the tree, remove it and see it go on DEVICE_DELETED, use
 * the QMP console, change the configuration while running (pending restart), stop the VM, restart
 * the app and find the VM. Screenshots go to test-results/e2e/.
 */
import { describe, expect, it } from 'vitest';
import { createNoneMachineVm, e2eSession, HAS_CHROMIUM, shot, vmItem, waitForState } from './harness.js';

describe.skipIf(!HAS_CHROMIUM)('hotplug through the web UI (real engine, machine none)', () => {
  const session = e2eSession('hotplug');

  it('hot-plugs and unplugs a device through the dialog, then finds the VM after a restart', async () => {
    const app = await session.start('data');
    const { page, errors } = await session.open(app);

    // A VM on the empty machine with the test bridge, from the wizard's advanced options.
    await createNoneMachineVm(page, 'hotplug-lab', ['vmstudio-test-bridge,id=br0,unplug-delay-ms=1500'], () =>
      shot(page, 'hp-01-wizard-machine-none'),
    );

    // Devices while stopped: the exact reason why nothing can be added.
    await page.getByTestId('tab-devices').click();
    await expect(page.getByTestId('add-device').getAttribute('title')).resolves.toBe(
      "'hotplug-lab' is stopped: start it to add or remove devices",
    );

    await page.getByTestId('action-start').click();
    await waitForState(page, 'running');
    const tree = page.getByTestId('device-tree');
    await tree.locator('[data-path="/machine/peripheral/br0"]').waitFor();

    // The bridge cannot be unplugged, and the UI says why.
    await tree.locator('[data-path="/machine/peripheral/br0"]').click();
    await page.getByTestId('device-reason').waitFor();
    await expect(page.getByTestId('device-reason').textContent()).resolves.toBe(
      "'br0' (vmstudio-test-bridge) is not hotpluggable: its bus 'sysbus' does not support hotplugging",
    );
    await expect(page.getByTestId('device-remove').isDisabled()).resolves.toBe(true);
    await shot(page, 'hp-02-device-tree');

    // The dialog: device list from the engine, the bridge listed as unavailable with its reason.
    await page.getByTestId('add-device').click();
    const dialog = page.getByTestId('add-device-dialog');
    await dialog.getByTestId('device-type-vmstudio-test-bridge').click();
    await expect(dialog.getByTestId('device-unavailable').textContent()).resolves.toContain(
      "vmstudio-test-bridge is not hotpluggable here: bus 'sysbus' does not support hotplugging",
    );
    await dialog.getByTestId('device-type-vmstudio-test-device').click();
    await dialog.getByTestId('prop-u8').waitFor();
    // The generated form: an out-of-range uint8 is refused with the range.
    await dialog.locator('#prop-input-u8').fill('300');
    await expect(dialog.getByTestId('error-u8').textContent()).resolves.toBe(
      'u8 must be between 0 and 255 (uint8).',
    );
    await shot(page, 'hp-03-add-device-validation');
    await dialog.locator('#prop-input-u8').fill('42');
    await dialog.locator('#prop-input-serial').fill('e2e-serial');
    await expect(dialog.getByTestId('device-id').inputValue()).resolves.toBe('dev0');
    await shot(page, 'hp-04-add-device-form');
    await dialog.getByTestId('device-add').click();
    await dialog.waitFor({ state: 'detached' });

    // In the tree, selected, with the values the engine reports.
    await tree.locator('[data-path="/machine/peripheral/dev0"]').waitFor();
    const details = page.getByTestId('node-details');
    await details.getByTestId('qom-prop-serial').getByText('e2e-serial').waitFor();
    await expect(details.getByTestId('qom-prop-u8').textContent()).resolves.toContain('42');
    await expect(details.getByTestId('qom-prop-u8').textContent()).resolves.toContain('fixed');
    await shot(page, 'hp-05-device-added');

    // Remove: requested, waiting for the guest, then gone on DEVICE_DELETED.
    await page.getByTestId('device-remove').click();
    await page.getByTestId('device-remove-confirm').click();
    const requested = page.locator('[data-testid="removal-status"][data-status="requested"]');
    await requested.waitFor();
    await expect(requested.textContent()).resolves.toContain(
      "Removal of 'dev0' requested — waiting for the guest",
    );
    await shot(page, 'hp-06-removal-requested');
    await page.locator('[data-testid="removal-status"][data-status="deleted"]').waitFor({ timeout: 10_000 });
    await tree.locator('[data-path="/machine/peripheral/dev0"]').waitFor({ state: 'detached' });
    await shot(page, 'hp-07-device-removed');

    // The QMP console: completion from the schema, a command and its reply.
    await page.getByTestId('tab-qmp').click();
    const input = page.getByTestId('qmp-input');
    await input.fill('qom-list-types {');
    await page.getByTestId('qmp-suggestions').getByText('implements').waitFor();
    await input.fill('query-status');
    await input.press('Enter');
    await page.getByTestId('qmp-log').getByText('"status": "running"').waitFor();
    await input.fill('qom-list {"path": "/machine/peripheral"}');
    await input.press('Enter');
    await page.getByTestId('qmp-log').getByText('"child<vmstudio-test-bridge>"').waitFor();
    await input.fill('qom-list-types {');
    await page.getByTestId('qmp-suggestions').getByText('implements').waitFor();
    await shot(page, 'hp-08-qmp-console');

    // A configuration change while running waits for the next boot.
    await page.getByTestId('tab-config').click();
    await page.locator('input[type="number"]').first().fill('2');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByTestId('pending-restart').waitFor();
    await expect(page.getByTestId('apply-cpus').textContent()).resolves.toBe('pending restart');
    await shot(page, 'hp-09-pending-restart');

    await page.getByTestId('action-stop').click();
    await waitForState(page, 'stopped');
    await page.getByTestId('pending-restart').waitFor({ state: 'detached' });
    expect(errors).toEqual([]);

    // Restart the app on the same data folder: the VM is in the library with its devices.
    const { page: page2, errors: errors2 } = await session.restart(app, 'data');
    await vmItem(page2, 'hotplug-lab').waitFor();
    await page2.getByTestId('tab-devices').click();
    await page2.getByText('vmstudio-test-bridge,id=br0,unplug-delay-ms=1500').waitFor();
    await shot(page2, 'hp-10-after-restart');
    expect(errors2).toEqual([]);
  }, 240_000);
});
