/**
 * The whole app against a REAL guest, through the web UI, with one boot of the default Debian guest
 * on our engine: the New VM wizard (default guest + a new qcow2 disk), a virtio-serial controller in
 * the configuration, start, the `~ # ` prompt in the xterm.js console and a command typed there; a
 * memory + disk snapshot; guest state changed in memory (/tmp) and on the disk (/dev/vda, read past
 * the page cache); a revert that brings both back; a virtserialport hot-plugged through the Add
 * device dialog, seen by the guest in /sys/class/virtio-ports, then unplugged; stop; a new main
 * process on the same data folder finds the VM and its snapshot.
 *
 * It runs wherever the default guest is built (CI builds it first; the boot takes ~20 s);
 * VMSTUDIO_GUEST_BOOT_TESTS=0 skips it (tests/helpers/guest-boot.ts). Screenshots go to
 * test-results/e2e/gc-*.
 */
import net from 'node:net';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { defaultGuestForBootTests, guestBootTestsGated } from '../helpers/guest-boot.js';
import {
  e2eSession,
  HAS_CHROMIUM,
  openRevertDialog,
  shot,
  snapshotRow as row,
  vmItem,
  waitForState,
  type RunningApp,
} from './harness.js';

const BOOT_MS = 6 * 60_000;

let skipReason = '';
const ready = guestBootTestsGated()
  ? Promise.resolve()
  : defaultGuestForBootTests().then(
      () => undefined,
      (e: unknown) => {
        skipReason = `default guest not available offline: ${(e as Error).message}`;
      },
    );

/** The console's visible rows as text (xterm.js DOM renderer), trailing blanks trimmed. */
async function screenText(page: Page): Promise<string> {
  const rows = await page
    .locator('[data-testid="console"] .xterm-rows > div')
    .evaluateAll((els) => els.map((r) => r.textContent ?? ''));
  return rows.map((r) => r.replace(/\u00a0/g, ' ').replace(/\s+$/, '')).join('\n');
}

/** Polls the console until `re` matches its visible text; the match, or an error showing the screen. */
async function waitScreen(page: Page, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const end = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = await screenText(page);
    const m = re.exec(text);
    if (m) return m;
    if (Date.now() > end)
      throw new Error(`console did not show ${re} within ${timeoutMs} ms; screen:\n${text}`);
    await page.waitForTimeout(500);
  }
}

describe.skipIf(!HAS_CHROMIUM || guestBootTestsGated())('a real Debian guest through the web UI', () => {
  // VMSTUDIO_E2E_KEEP=1 keeps the data folder (library, VM folder, engine logs) for a post-mortem.
  const session = e2eSession('guest-console', () => ready);
  let seq = 0;

  /** Type a line into the guest's shell through the console (keyboard focus on xterm.js). */
  async function type(page: Page, line: string): Promise<void> {
    await page.getByTestId('tab-console').click();
    await page.getByTestId('console').click();
    await page.keyboard.type(line, { delay: 5 });
    await page.keyboard.press('Enter');
  }

  /**
   * Run a shell command and return what it printed, framed by markers the command line itself does
   * not contain (the quotes split them), so an echoed command is never mistaken for its output.
   */
  async function sh(page: Page, cmd: string, timeoutMs = 60_000): Promise<string> {
    const n = ++seq;
    await type(page, `echo '<'${n}'<'; ${cmd}; echo '>'${n}'>'`);
    const m = await waitScreen(page, new RegExp(`<${n}<\\n([\\s\\S]*?)\\n?>${n}>`), timeoutMs);
    return m[1]!.trim();
  }

  it(
    'wizard, boot to the shell, snapshot and revert, hot-plug and unplug, restart the app',
    async () => {
      if (skipReason) {
        console.warn(skipReason);
        return;
      }
      const t0 = Date.now();
      const app = await session.start('data');
      const { page, errors } = await session.open(app);
      try {
        await flow(page, errors, app, t0);
      } catch (e) {
        // What the user saw, and what the app said, next to the failure.
        await shot(page, 'gc-failure').catch(() => undefined);
        const screen = await screenText(page).catch(() => '');
        const notes = await page
          .locator('[role="alert"], [role="status"]')
          .allTextContents()
          .catch(() => []);
        (e as Error).message +=
          `\n--- console screen ---\n${screen}\n--- app stderr ---\n${app.stderr().slice(-4000)}` +
          `\n--- page errors ---\n${errors.join('\n')}\n--- notifications ---\n${notes.join('\n')}`;
        throw e;
      }
    },
    20 * 60_000,
  );

  async function flow(page: Page, errors: string[], app: RunningApp, t0: number): Promise<void> {
    // --- The wizard: the default guest, with a new disk (qcow2, so memory snapshots can live in it).
    await page.getByTestId('empty-new-vm').click();
    await page.getByTestId('guest-debian-riscv64').click();
    await expect(page.getByTestId('guest-debian-riscv64').getAttribute('aria-checked')).resolves.toBe('true');
    await page.getByTestId('wizard-name').fill('debian-console');
    await page.getByRole('button', { name: 'New disk' }).click();
    await page.getByLabel('Size in MiB').fill('64');
    await shot(page, 'gc-01-wizard');
    await page.getByTestId('wizard-create').click();
    await page.getByTestId('wizard').waitFor({ state: 'detached' });
    await vmItem(page, 'debian-console').waitFor();

    // --- Stopped: no hot-plug, and the UI says why; a virtio-serial controller for the next boot.
    await page.getByTestId('tab-devices').click();
    await expect(page.getByTestId('add-device').isDisabled()).resolves.toBe(true);
    await expect(page.getByTestId('add-device').getAttribute('title')).resolves.toBe(
      "'debian-console' is stopped: start it to add or remove devices",
    );
    await page.getByTestId('config-device-input').fill('virtio-serial-device,id=vser0');
    await page.getByTestId('config-device-add').click();
    await page.getByTestId('config-devices').getByText('virtio-serial-device,id=vser0').waitFor();
    // A host channel for the next boot too (the engine gets it as -chardev); a bad one is explained.
    await page.getByTestId('config-chardev-input').fill('stdio,id=con');
    await expect(page.getByTestId('config-chardev-add').isDisabled()).resolves.toBe(true);
    await page.getByTestId('config-chardev-input').fill('ringbuf,id=ring0,size=64K');
    await page.getByTestId('config-chardev-add').click();
    await page.getByTestId('config-chardevs').getByText('ringbuf,id=ring0,size=64K').waitFor();
    await shot(page, 'gc-02-devices-stopped');

    // --- Boot to the shell prompt.
    await page.getByTestId('action-start').click();
    await waitForState(page, 'running', 60_000);
    await page.getByTestId('tab-console').click();
    const bootStart = Date.now();
    await waitScreen(page, /VM Studio guest ready/, BOOT_MS);
    await waitScreen(page, /^~ # ?$/m, 60_000);
    const bootSeconds = Math.round((Date.now() - bootStart) / 1000);
    console.log(`guest-console: boot to the prompt in ${bootSeconds} s`);
    await shot(page, 'gc-03-booted');

    await type(page, 'echo hello-$((6*7))');
    await waitScreen(page, /^hello-42$/m, 60_000);
    await shot(page, 'gc-04-command');

    // --- State before the snapshot: a file in RAM, a sector on the qcow2 disk.
    expect(await sh(page, 'echo before > /tmp/state; cat /tmp/state')).toBe('before');
    expect(
      await sh(page, 'echo disk-A | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null; echo $?'),
    ).toBe('0');

    // --- A memory + disk snapshot through the UI.
    await page.getByTestId('tab-snapshots').click();
    await page.getByTestId('snapshot-take').click();
    const take = page.getByTestId('take-dialog');
    await take.getByTestId('take-name').fill('at the prompt');
    await shot(page, 'gc-05-take-dialog');
    await take.getByTestId('take-confirm').click();
    await row(page, 'at the prompt').waitFor({ timeout: 180_000 });
    await page.locator('[data-testid="snapshot-progress"][data-status="done"]').waitFor({ timeout: 180_000 });
    await expect(row(page, 'at the prompt').textContent()).resolves.toContain('memory + disks');
    await shot(page, 'gc-06-snapshot-taken');

    // --- Change the guest: the file, a shell variable and the disk sector.
    expect(
      await sh(
        page,
        'echo changed > /tmp/state; GUEST_VAR=after; echo disk-B | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null; cat /tmp/state',
      ),
    ).toBe('changed');

    // --- Revert through the UI (no automatic snapshot: one save is enough for this flow).
    const revert = await openRevertDialog(page, 'at the prompt');
    await revert.getByTestId('revert-plan').waitFor();
    await revert.getByTestId('plan-config-same').waitFor();
    await revert.getByTestId('revert-auto').uncheck();
    await revert.getByText('The current state will be lost.').waitFor();
    await shot(page, 'gc-07-revert-plan');
    await revert.getByTestId('revert-confirm').click();
    await revert.waitFor({ state: 'detached' });
    await page.locator('[data-testid="snapshot-progress"][data-status="done"]').waitFor({ timeout: 180_000 });
    await waitForState(page, 'running');

    // The guest is back at the prompt as it was: the old file, no variable, the old sector on disk
    // (the page cache is dropped first, so the read comes from the reverted image).
    await type(page, '');
    expect(await sh(page, 'cat /tmp/state; echo "var=[$GUEST_VAR]"')).toBe('before\nvar=[]');
    expect(
      await sh(
        page,
        'sync; echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=6 count=1 2>/dev/null; echo',
      ),
    ).toBe('disk-A');
    await shot(page, 'gc-08-reverted-console');

    // --- Hot-plug a virtserialport on a new host socket through the Add device dialog; the guest
    // sees its name, and a host program talks to the guest through the socket both ways.
    expect(await sh(page, 'ls /sys/class/virtio-ports | wc -l')).toBe('0');
    await page.getByTestId('tab-devices').click();
    const tree = page.getByTestId('device-tree');
    // The controller itself sits on a virtio-mmio transport: not unpluggable, and the UI says why.
    await tree.locator('[data-path="/machine/peripheral/vser0"]').click();
    await expect(page.getByTestId('device-reason').textContent()).resolves.toMatch(
      /^'vser0' \(virtio-serial-device\) is not hotpluggable: /,
    );
    await expect(page.getByTestId('device-remove').isDisabled()).resolves.toBe(true);
    await page.getByTestId('add-device').click();
    const dialog = page.getByTestId('add-device-dialog');
    await dialog.getByTestId('device-type-virtserialport').click();
    await dialog.getByTestId('prop-name').waitFor();
    await dialog.getByTestId('device-id').fill('port1');
    await dialog.locator('#prop-input-name').fill('org.vmstudio.e2e');
    await dialog.getByTestId('backend-chardev').selectOption({ label: 'New host socket…' });
    await dialog.getByTestId('new-chardev-hint').waitFor();
    await shot(page, 'gc-09-add-device');
    await dialog.getByTestId('device-add').click();
    await dialog.waitFor({ state: 'detached' });
    const added = page.locator('.toast').filter({ hasText: 'Host programs connect to its channel at' });
    const socketPath = /channel at (\/\S+\.sock)\./.exec((await added.textContent()) ?? '')?.[1];
    expect(socketPath).toMatch(/\/channel0\.sock$/);
    await tree.locator('[data-path="/machine/peripheral/port1"]').waitFor();
    await page
      .getByTestId('node-details')
      .getByTestId('qom-prop-name')
      .getByText('org.vmstudio.e2e')
      .waitFor();
    await shot(page, 'gc-10-device-added');
    expect(
      await sh(
        page,
        'i=0; until grep -qs org.vmstudio.e2e /sys/class/virtio-ports/*/name || [ $i -ge 30 ]; do i=$((i+1)); sleep 1; done; cat /sys/class/virtio-ports/*/name',
      ),
    ).toBe('org.vmstudio.e2e');
    const host = net.connect(socketPath!);
    await new Promise<void>((res, rej) => {
      host.once('connect', () => res());
      host.once('error', rej);
    });
    let fromGuest = '';
    host.setEncoding('utf8');
    host.on('data', (d: string) => (fromGuest += d));
    try {
      // guest -> host, through the port the dialog made
      await sh(
        page,
        'port=$(basename $(dirname $(grep -l org.vmstudio.e2e /sys/class/virtio-ports/*/name))); echo $port',
      );
      await sh(page, 'echo guest-to-host > /dev/$port');
      const deadline = Date.now() + 60_000;
      while (!fromGuest.includes('guest-to-host\n') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(fromGuest).toBe('guest-to-host\n');
      // host -> guest (the reader runs outside job control: no "Done" notice over the next command)
      await sh(page, 'rm -f /tmp/rx; ( (head -n 1 /dev/$port > /tmp/rx) & ); sleep 1; echo started');
      host.write('host-to-guest\n');
      expect(
        await sh(
          page,
          'i=0; until [ -s /tmp/rx ] || [ $i -ge 30 ]; do i=$((i+1)); sleep 1; done; cat /tmp/rx',
        ),
      ).toBe('host-to-guest');
    } finally {
      host.destroy();
    }

    // --- Unplug it: the guest releases the port, DEVICE_DELETED, gone from the tree and the guest.
    await page.getByTestId('tab-devices').click();
    await tree.locator('[data-path="/machine/peripheral/port1"]').click();
    await page.getByTestId('device-remove').click();
    await page.getByTestId('device-remove-confirm').click();
    await page.locator('[data-testid="removal-status"][data-status="deleted"]').waitFor({ timeout: 60_000 });
    await tree.locator('[data-path="/machine/peripheral/port1"]').waitFor({ state: 'detached' });
    await shot(page, 'gc-11-device-removed');
    expect(await sh(page, 'ls /sys/class/virtio-ports | wc -l')).toBe('0');
    await shot(page, 'gc-12-console-after-unplug');

    // --- Stop, then a new main process on the same data folder.
    await page.getByTestId('action-stop').click();
    await waitForState(page, 'stopped', 60_000);
    await page.getByTestId('tab-devices').click();
    await expect(page.getByTestId('add-device').getAttribute('title')).resolves.toBe(
      "'debian-console' is stopped: start it to add or remove devices",
    );
    expect(errors).toEqual([]);

    const { page: page2, errors: errors2 } = await session.restart(app, 'data');
    await vmItem(page2, 'debian-console').waitFor();
    await page2.getByTestId('tab-snapshots').click();
    await row(page2, 'at the prompt').waitFor();
    await expect(page2.getByTestId('snapshot-name').allTextContents()).resolves.toEqual(['at the prompt']);
    await shot(page2, 'gc-13-after-restart-snapshots');
    await page2.getByTestId('tab-devices').click();
    await page2.getByTestId('config-devices').getByText('virtio-serial-device,id=vser0').waitFor();
    await page2.getByTestId('config-chardevs').getByText('ringbuf,id=ring0,size=64K').waitFor();
    await shot(page2, 'gc-14-after-restart-devices');
    expect(errors2).toEqual([]);
    console.log(`guest-console: whole flow in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
});
