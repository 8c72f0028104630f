/**
 * Snapshots end to end against the REAL engine: a VM on the empty `none` machine with the test
 * bridge and a test device added at boot, whose `doorbell` register is machine state. Through the web
 * UI: take a snapshot, change the register in the Devices tab's live property editor, revert with the
 * automatic snapshot on (the plan is shown first), read the old value back, find the automatic
 * snapshot in the tree, delete a snapshot and revert to the other (its data untouched), rename one,
 * restart the app and find the snapshots. Also the live load graph, and the default VM of a fresh
 * library. Screenshots go to test-results/e2e/.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  createNoneMachineVm,
  e2eSession,
  HAS_CHROMIUM,
  openRevertDialog,
  shot,
  snapshotRow as row,
  vmItem,
  waitForState,
} from './harness.js';

describe.skipIf(!HAS_CHROMIUM)('snapshots through the web UI (real engine, machine none)', () => {
  const session = e2eSession('snap');

  /** Set dev0's doorbell through the Devices tab's live property editor, and read it back there. */
  async function ring(page: Page, value: number): Promise<void> {
    await page.getByTestId('tab-devices').click();
    const tree = page.getByTestId('device-tree');
    await tree.locator('[data-path="/machine/peripheral/dev0"]').click();
    const prop = page.getByTestId('node-details').getByTestId('qom-prop-doorbell');
    await prop.getByRole('button', { name: 'live · edit' }).click();
    await prop.locator('input').fill(String(value));
    await prop.getByRole('button', { name: 'Set' }).click();
    await prop.locator('.value', { hasText: new RegExp(`^${value}$`) }).waitFor();
  }

  async function readDoorbell(page: Page): Promise<string> {
    await page.getByTestId('tab-devices').click();
    await page.getByTestId('device-tree').locator('[data-path="/machine/peripheral/dev0"]').click();
    const v = page.getByTestId('node-details').getByTestId('qom-prop-doorbell').locator('.value');
    await v.waitFor();
    return (await v.textContent())!.trim();
  }

  async function takeSnapshot(page: Page, name: string): Promise<void> {
    await page.getByTestId('tab-snapshots').click();
    await page.getByTestId('snapshot-take').click();
    const dialog = page.getByTestId('take-dialog');
    await dialog.getByTestId('take-name').fill(name);
    await dialog.getByTestId('take-confirm').click();
    await row(page, name).waitFor();
  }

  it('takes, reverts (keeping the current state), deletes and renames snapshots; they survive a restart', async () => {
    const app = await session.start('data');
    const { page, errors } = await session.open(app);

    await createNoneMachineVm(page, 'snap-lab', [
      'vmstudio-test-bridge,id=br0,unplug-delay-ms=50',
      'vmstudio-test-device,id=dev0,bus=br0.0',
    ]);

    // Stopped: the exact reason why nothing can be taken.
    await page.getByTestId('tab-snapshots').click();
    await expect(page.getByTestId('take-reason').textContent()).resolves.toBe(
      "'snap-lab' is stopped: start it to take a snapshot.",
    );
    await shot(page, 'snap-01-stopped');

    await page.getByTestId('action-start').click();
    await waitForState(page, 'running');

    // The live graph: the VM list's sparkline and the Performance tab.
    await page.getByTestId('tab-performance').click();
    await page.getByTestId('perf-chart').locator('svg.chart').waitFor();
    await page.locator('[data-testid="vm-item"] [data-testid="sparkline"]').waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('perf-ips').textContent()).resolves.toBe('0 IPS');
    await expect(page.getByTestId('perf-cpu').textContent()).resolves.toMatch(/^\d+(\.\d)?%$/);
    await shot(page, 'snap-02-performance');

    // Snapshot A with doorbell = 1; disk-only shows why it is unavailable.
    await ring(page, 1);
    await page.getByTestId('tab-snapshots').click();
    await page.getByTestId('snapshot-take').click();
    const dialog = page.getByTestId('take-dialog');
    await expect(dialog.getByTestId('take-kind-disk-only').isDisabled()).resolves.toBe(true);
    await expect(dialog.getByTestId('disk-only-reason').textContent()).resolves.toBe(
      "'snap-lab' has no disks: a disk-only snapshot needs a qcow2 disk",
    );
    await dialog.getByTestId('take-name').fill('doorbell one');
    await shot(page, 'snap-03-take-dialog');
    await dialog.getByTestId('take-confirm').click();
    await row(page, 'doorbell one').waitFor();
    await page.locator('[data-testid="snapshot-progress"][data-status="done"]').waitFor();
    await shot(page, 'snap-04-taken');

    // Change the state, then revert with the automatic snapshot on: the plan first.
    await ring(page, 2);
    const revert = await openRevertDialog(page, 'doorbell one');
    await revert.getByTestId('revert-plan').waitFor();
    await revert.getByTestId('plan-config-same').waitFor();
    await revert.getByTestId('plan-devices-same').waitFor();
    await expect(revert.getByTestId('revert-auto').isChecked()).resolves.toBe(true);
    await revert.getByText("Keep the current state as 'Before revert to doorbell one'").waitFor();
    await shot(page, 'snap-05-revert-plan');
    await revert.getByTestId('revert-confirm').click();
    await revert.waitFor({ state: 'detached' });
    await row(page, 'Before revert to doorbell one').waitFor();
    await page.locator('[data-testid="snapshot-progress"][data-status="done"]').waitFor();
    // The tree: the automatic snapshot under A, and "now" back under A.
    await expect(
      page
        .getByTestId('snapshot-tree')
        .locator('[role="treeitem"]')
        .evaluateAll((els) =>
          els.map((e) => `${e.getAttribute('aria-level')}:${e.getAttribute('data-name') ?? 'now'}`),
        ),
    ).resolves.toEqual(['1:doorbell one', '2:Before revert to doorbell one', '2:now']);
    await expect(row(page, 'Before revert to doorbell one').textContent()).resolves.toContain('auto');
    await shot(page, 'snap-06-reverted-tree');
    await expect(readDoorbell(page)).resolves.toBe('1');

    // Delete A: the automatic snapshot keeps its own data, and reverting to it brings back 2.
    await page.getByTestId('tab-snapshots').click();
    await row(page, 'doorbell one').click();
    await row(page, 'doorbell one').getByTestId('snapshot-delete').click();
    await row(page, 'doorbell one').getByTestId('delete-confirm').click();
    await row(page, 'doorbell one').waitFor({ state: 'detached' });
    await openRevertDialog(page, 'Before revert to doorbell one');
    await revert.getByTestId('revert-plan').waitFor();
    await revert.getByTestId('revert-auto').uncheck();
    await revert.getByText('The current state will be lost.').waitFor();
    await revert.getByTestId('revert-confirm').click();
    await revert.waitFor({ state: 'detached' });
    await page.locator('[data-testid="snapshot-progress"][data-status="done"]').waitFor();
    await expect(readDoorbell(page)).resolves.toBe('2');

    // Rename: the display name changes, the engine's tag does not.
    await page.getByTestId('tab-snapshots').click();
    await row(page, 'Before revert to doorbell one').click();
    await row(page, 'Before revert to doorbell one').getByTestId('snapshot-rename').click();
    await page.getByTestId('rename-input').fill('doorbell two');
    await page.getByTestId('rename-input').press('Enter');
    await row(page, 'doorbell two').waitFor();
    await takeSnapshot(page, 'second');
    await shot(page, 'snap-07-renamed');

    // An engine refusal is shown with the engine's reason, and the tree stays as it was.
    await page.getByTestId('tab-qmp').click();
    await page.getByTestId('qmp-input').fill('device_del {"id": "dev0"}');
    await page.getByTestId('qmp-input').press('Enter');
    await page.getByTestId('qmp-log').getByText('DEVICE_DELETED').waitFor({ timeout: 10_000 });
    await openRevertDialog(page, 'second');
    await revert.getByTestId('plan-problems').waitFor();
    await revert.getByTestId('revert-auto').uncheck();
    await shot(page, 'snap-08-revert-problems');
    await revert.getByTestId('revert-confirm').click();
    const err = page.getByTestId('snapshot-error');
    await err.waitFor();
    await expect(err.locator('strong').textContent()).resolves.toBe("Could not revert to 'second'");
    await expect(err.getByTestId('snapshot-error-message').textContent()).resolves.toMatch(
      /^Error -22 while loading VM state\. The VM was left as it was\. Likely cause: 'second' holds the state of 'dev0'/,
    );
    await shot(page, 'snap-09-revert-refused');
    await expect(page.getByTestId('snapshot-name').allTextContents()).resolves.toEqual([
      'doorbell two',
      'second',
    ]);

    await page.getByTestId('action-stop').click();
    await waitForState(page, 'stopped');
    expect(errors).toEqual([]);

    // Restart the app on the same data folder: the snapshots are there, with the renamed name.
    const { page: page2, errors: errors2 } = await session.restart(app, 'data');
    await vmItem(page2, 'snap-lab').waitFor();
    await page2.getByTestId('tab-snapshots').click();
    await row(page2, 'doorbell two').waitFor();
    await row(page2, 'second').waitFor();
    await expect(page2.getByTestId('snapshot-name').allTextContents()).resolves.toEqual([
      'doorbell two',
      'second',
    ]);
    await shot(page2, 'snap-10-after-restart');
    expect(errors2).toEqual([]);
  }, 240_000);

  it('creates the default Debian VM in a fresh library', async () => {
    const app = await session.start('fresh', { VMSTUDIO_NO_DEFAULT_VM: '' });
    const { page, errors } = await session.open(app);
    await vmItem(page, 'Debian riscv64').waitFor();
    await expect(page.getByTestId('vm-title').textContent()).resolves.toBe('Debian riscv64');
    await page.getByText('1 vCPU').first().waitFor();
    await page.getByText('512 MiB').first().waitFor();
    await shot(page, 'snap-11-default-vm');
    expect(errors).toEqual([]);
  }, 60_000);
});
