/**
 * The Configuration tab's disk editor on a stopped VM (new qcow2 image, an existing image, detach,
 * delete only what VM Studio made, nothing while running), and how the dialogs behave at the
 * keyboard (focus goes in, Tab stays in, Escape closes, focus comes back). Screenshots dk-*.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNoneMachineVm, e2eSession, HAS_CHROMIUM, shot, waitForState } from './harness.js';

describe.skipIf(!HAS_CHROMIUM)('disks and dialogs end to end', () => {
  const session = e2eSession('disks');

  it('adds, detaches and deletes disks of a stopped VM, and says why not while it runs', async () => {
    const app = await session.start('data');
    const { page, errors } = await session.open(app);
    await createNoneMachineVm(page, 'disk-lab', []);
    await page.getByTestId('tab-config').click();
    const editor = page.getByTestId('disks-editor');
    await editor.getByText('No disks.').waitFor();
    const rows = editor.getByTestId('disk-row');

    // A new qcow2 image, made in the VM's folder.
    await editor.getByTestId('disk-add-new').click();
    await editor.getByTestId('disk-new-size').fill('0');
    await editor.getByText('The size is a whole number of MiB, at least 1.').waitFor();
    expect(await editor.getByTestId('disk-add-do').isDisabled()).toBe(true);
    await editor.getByTestId('disk-new-size').fill('64');
    await editor.getByTestId('disk-add-do').click();
    await rows.first().waitFor();
    const made = (await rows.first().locator('.path').getAttribute('title'))!;
    expect(path.basename(made)).toBe('disk0.qcow2');
    expect(fs.readFileSync(made).subarray(0, 4).toString('latin1')).toBe('QFI\xfb');

    // An image the user picked, attached where it is; a wrong path is refused with QEMU's words.
    const mine = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-e2e-img-')), 'mine.img');
    fs.writeFileSync(mine, Buffer.alloc(1 << 20));
    await editor.getByTestId('disk-add-existing').click();
    await editor.getByTestId('disk-existing-path').fill(mine + '.missing');
    await editor.getByTestId('disk-add-do').click();
    await expect(editor.getByTestId('disk-error').textContent()).resolves.toContain(
      'No such file or directory',
    );
    await editor.getByTestId('disk-existing-path').fill(mine);
    await editor.getByTestId('disk-add-do').click();
    await expect.poll(() => rows.count()).toBe(2);
    await expect(rows.nth(1).textContent()).resolves.toContain('raw');
    await page.getByTestId('vm-specs').getByText('2 disks').waitFor();

    // Detaching the user's image never deletes it: the dialog does not even offer to.
    await editor.getByTestId('disk-remove-1').click();
    const confirm = editor.getByTestId('disk-remove-confirm');
    await confirm.getByText('VM Studio never deletes files you picked').waitFor();
    expect(await confirm.getByTestId('disk-delete-file').count()).toBe(0);
    await shot(page, 'dk-01-detach-user-image');
    await confirm.getByTestId('disk-remove-do').click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(fs.existsSync(mine)).toBe(true);

    // The running VM's disks are not changed; the editor says why.
    await page.getByTestId('action-start').click();
    await waitForState(page, 'running');
    await expect(editor.getByTestId('disks-unavailable').textContent()).resolves.toBe(
      "'disk-lab' is running: stop it to change its disks",
    );
    expect(await editor.getByTestId('disk-add-new').isDisabled()).toBe(true);
    expect(await editor.getByTestId('disk-remove-0').isDisabled()).toBe(true);
    await page.getByTestId('action-stop').click();
    await waitForState(page, 'stopped');

    // VM Studio's own image may go with its disk.
    await editor.getByTestId('disk-remove-0').click();
    await confirm.getByTestId('disk-delete-file').check();
    await expect(confirm.getByTestId('disk-remove-do').textContent()).resolves.toBe('Remove and delete file');
    await shot(page, 'dk-02-delete-own-image');
    await confirm.getByTestId('disk-remove-do').click();
    await editor.getByText('No disks.').waitFor();
    expect(fs.existsSync(made)).toBe(false);
    expect(errors).toEqual([]);
  }, 120_000);

  it('hot-plugs a SCSI disk on a new image through the Add device dialog', async () => {
    const app = await session.start('data-scsi');
    const { page, errors } = await session.open(app);
    // A virt machine whose firmware is one looping instruction: the devices need no guest here.
    const loop = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-e2e-fw-')), 'loop.bin');
    fs.writeFileSync(loop, Buffer.from([0x6f, 0, 0, 0])); // j .
    await page.getByTestId('empty-new-vm').click();
    await page.getByTestId('guest-custom').click();
    await page.getByTestId('wizard-name').fill('scsi-lab');
    // The kernel through the file picker: a folder typed in, the file chosen from the list.
    await page.getByTestId('wizard-kernel-browse').click();
    const picker = page.getByTestId('file-picker');
    await picker.waitFor();
    await page.getByTestId('picker-path').fill(path.dirname(loop) + '/missing');
    await page.getByTestId('picker-path').press('Enter');
    await expect(page.getByTestId('picker-error').textContent()).resolves.toContain(
      'No such file or directory',
    );
    await page.getByTestId('picker-path').fill(path.dirname(loop));
    await page.getByTestId('picker-path').press('Enter');
    await picker.locator('[data-name="loop.bin"]').click();
    await shot(page, 'dk-00-file-picker');
    // Escape closes the picker only (the topmost dialog), not the wizard under it.
    await page.keyboard.press('Escape');
    await picker.waitFor({ state: 'detached' });
    await page.getByTestId('wizard').waitFor();
    await page.getByTestId('wizard-kernel-browse').click();
    await picker.locator('[data-name="loop.bin"]').dblclick();
    await picker.waitFor({ state: 'detached' });
    await expect(page.getByTestId('wizard-kernel').inputValue()).resolves.toBe(loop);
    await page.getByTestId('wizard-advanced').click();
    await page.getByTestId('wizard-devices').fill('virtio-scsi-device,id=scsi0');
    await page.getByTestId('wizard-memory').fill('64');
    await page.getByTestId('wizard-create').click();
    await page.getByTestId('wizard').waitFor({ state: 'detached' });
    await page.getByTestId('tab-config').click();
    await page.getByLabel('Firmware (-bios)', { exact: true }).fill(loop);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Configuration saved').waitFor();

    await page.getByTestId('action-start').click();
    await waitForState(page, 'running');
    await page.getByTestId('tab-devices').click();
    await page.getByTestId('add-device').click();
    const dialog = page.getByTestId('add-device-dialog');
    await dialog.getByTestId('device-type-scsi-hd').click();
    await dialog.getByTestId('backend-drive').selectOption({ label: 'New qcow2 image…' });
    await dialog.getByTestId('new-disk-size').fill('32');
    await dialog.getByTestId('device-id').fill('hd0');
    await dialog.getByTestId('device-keep').check();
    await shot(page, 'dk-03-new-scsi-disk');
    await dialog.getByTestId('device-add').click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByTestId('device-tree').locator('[data-path="/machine/peripheral/hd0"]').waitFor();

    // The image is one of the VM's disks now (backend only: the kept scsi-hd names it).
    await page.getByTestId('tab-config').click();
    const row = page.getByTestId('disks-editor').getByTestId('disk-row').first();
    await expect(row.textContent()).resolves.toMatch(/disk0.*disk0\.qcow2.*qcow2.*backend only/);
    const file = (await row.locator('.path').getAttribute('title'))!;
    expect(fs.statSync(file).isFile()).toBe(true);
    await shot(page, 'dk-04-scsi-disk-in-config');
    await page.getByTestId('action-stop').click();
    await waitForState(page, 'stopped');
    expect(errors).toEqual([]);
  }, 120_000);

  it('keeps keyboard focus in dialogs and gives it back when they close', async () => {
    const app = await session.start('data-dialogs');
    const { page, errors } = await session.open(app);
    // Page-side expressions as strings: this file compiles without the DOM's types.
    const inside = (testid: string): Promise<boolean> =>
      page.evaluate(`!!document.activeElement?.closest('[data-testid="${testid}"]')`);

    const opener = page.getByTestId('new-vm');
    await opener.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('wizard').waitFor();
    expect(await inside('wizard')).toBe(true);
    // Tab and Shift+Tab cycle inside the dialog, never to the page behind it.
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press('Tab');
      expect(await inside('wizard')).toBe(true);
    }
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Shift+Tab');
      expect(await inside('wizard')).toBe(true);
    }
    await page.keyboard.press('Escape');
    await page.getByTestId('wizard').waitFor({ state: 'detached' });
    expect(await page.evaluate(`document.activeElement?.getAttribute('data-testid')`)).toBe('new-vm');

    // A click on the backdrop closes it too.
    await opener.click();
    await page.getByTestId('wizard').waitFor();
    await page.mouse.click(5, 400);
    await page.getByTestId('wizard').waitFor({ state: 'detached' });
    expect(errors).toEqual([]);
  }, 60_000);
});
