/**
 * Hotplug seen from inside the Debian guest, one boot of the `virt` machine with modern virtio-mmio
 * (`-global virtio-mmio.force-legacy=false`: Linux's virtio_input refuses devices without VERSION_1)
 * and virtio-scsi, virtio-serial, virtio-keyboard and virtio-tablet:
 * - the input devices are listed in /proc/bus/input/devices with QEMU 7.2's names, ids and event bits;
 * - a disk: QMP blockdev-add (qcow2 over file) + device_add scsi-hd; the guest sees sda appear (the
 *   TRANSPORT_RESET rescan event, no manual scan), makes a filesystem, mounts, writes, unmounts;
 *   device_del -> DEVICE_DELETED and sda disappears; the host then reads the guest's file from the image;
 * - a serial port: chardev-add of a unix socket server, device_add virtserialport on it; the guest
 *   sees the port's name in /sys/class/virtio-ports, data goes both ways, opening the port reports
 *   VSERPORT_CHANGE and the chardev is busy; device_del -> DEVICE_DELETED and the port disappears in
 *   the guest; then chardev-remove succeeds.
 *
 * VMSTUDIO_HOTPLUG_VM=qemu runs the same script on qemu-system-riscv64 (to compare with QEMU 7.2);
 * VMSTUDIO_HOTPLUG_DEBUG=1 shows the guest console.
 * Skipped (with the reason) when the guest or qemu-img is missing.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Json, type QmpTestClient } from '../qmp/qmp-test-client.js';
import {
  engineArgs,
  guestMachineArgs,
  guestShell,
  hasHostTool,
  hostRun as run,
  needGuest,
  openQmp,
  powerOff,
  qmpReturn,
  qmpSocketArgs,
  withGuestAtPrompt,
} from '../machine/guest-on-engine.js';

const ON_QEMU = process.env['VMSTUDIO_HOTPLUG_VM'] === 'qemu';

/** What QEMU 7.2 shows for these devices in this guest (/proc/bus/input/devices, B: lines). */
const QEMU_KEYBOARD_KEYS = '400000000 3078f800dfff febeffff7bcfffff fffffffffffffffe';
const QEMU_TABLET_KEYS = '30000 1f0000 0 0 0 0';

/** One input device's block of /proc/bus/input/devices, by name. */
function inputDevice(list: string, name: string): string {
  const block = list.split(/\n\s*\n/).find((b) => b.includes(`N: Name="${name}"`));
  if (!block) throw new Error(`no input device "${name}" in:\n${list}`);
  return block;
}

const ok = (q: QmpTestClient, cmd: string, args?: { [k: string]: Json }): Promise<Json> =>
  qmpReturn(q, cmd, args, 60_000);

describe('hotplug inside the Debian guest', () => {
  it(
    'input devices listed; scsi-hd and virtserialport hot-plugged, used and removed',
    { timeout: 1_800_000 },
    async (ctx) => {
      const g = await needGuest(ctx, { hostTools: ['qemu-img'] });
      const dir = mkdtempSync(join(tmpdir(), 'vmstudio-hotplug-'));
      const disk = join(dir, 'hot.qcow2');
      run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '32M']);
      const qmpPath = join(dir, 'qmp.sock');
      const portPath = join(dir, 'port.sock');
      const args = guestMachineArgs(g, {
        extra: [
          '-global',
          'virtio-mmio.force-legacy=false',
          '-device',
          'virtio-scsi-device,id=scsi0',
          '-device',
          'virtio-serial-device,id=vser0',
          '-device',
          'virtio-keyboard-device',
          '-device',
          'virtio-tablet-device',
          ...qmpSocketArgs(qmpPath),
        ],
      });
      const onData =
        process.env['VMSTUDIO_HOTPLUG_DEBUG'] === '1' ? (t: string) => process.stderr.write(t) : undefined;
      let q: QmpTestClient | undefined;
      let host: net.Socket | undefined;
      try {
        await withGuestAtPrompt(
          ON_QEMU ? args : engineArgs(args),
          async (vm) => {
            const sh = guestShell(vm, 300_000);
            /** Polls a shell condition in the guest (once a second, up to `tries` times); its last output. */
            const until = (cond: string, tries = 120) =>
              sh(
                `i=0; until ${cond}; do i=$((i+1)); [ $i -ge ${tries} ] && echo TIMEOUT && break; sleep 1; done`,
              );
            q = await openQmp(qmpPath);

            // Input devices, as QEMU 7.2 presents them (the kernel's log explains a missing one).
            const inputs = await sh('cat /proc/bus/input/devices');
            if (!inputs.includes('QEMU Virtio Tablet')) {
              const log = await sh('dmesg | grep -i -E "virtio|input"; cat /sys/bus/virtio/devices/*/status');
              throw new Error(`input devices missing:\n${inputs}\n${log}`);
            }
            const kbd = inputDevice(inputs, 'QEMU Virtio Keyboard');
            expect(kbd).toContain('I: Bus=0006 Vendor=0627 Product=0001 Version=0001');
            expect(kbd).toMatch(/H: Handlers=.*\bkbd\b.*\bleds\b/);
            expect(kbd).toContain('B: EV=120003');
            expect(kbd).toContain(`B: KEY=${QEMU_KEYBOARD_KEYS}\n`);
            expect(kbd).toContain('B: LED=7');
            const tab = inputDevice(inputs, 'QEMU Virtio Tablet');
            expect(tab).toContain('I: Bus=0006 Vendor=0627 Product=0003 Version=0002');
            expect(tab).toContain('B: EV=f');
            expect(tab).toContain(`B: KEY=${QEMU_TABLET_KEYS}\n`);
            expect(tab).toContain('B: REL=100');
            expect(tab).toContain('B: ABS=3');
            // ABS_X/ABS_Y range 0..32767 reached the guest's mousedev (it scales from the device's range).
            expect(await sh('ls /dev/input')).toMatch(/mouse0/);

            // --- A disk: blockdev-add + device_add scsi-hd; the guest finds it without a manual scan.
            expect((await sh('ls /sys/block')).trim()).toBe('');
            await ok(q, 'blockdev-add', {
              driver: 'qcow2',
              'node-name': 'hot0',
              file: { driver: 'file', filename: disk },
            });
            await ok(q, 'device_add', { driver: 'scsi-hd', drive: 'hot0', bus: 'scsi0.0', id: 'hd1' });
            expect(await until('[ -e /sys/block/sda ]')).not.toContain('TIMEOUT');
            expect((await sh('cat /sys/block/sda/size')).trim()).toBe(String((32 << 20) / 512));
            await until('[ -b /dev/sda ]', 30);
            await sh('mke2fs -q /dev/sda', 600_000);
            await sh('mkdir -p /mnt/hot && mount -t ext2 /dev/sda /mnt/hot');
            await sh(
              'echo "written on a hot-plugged disk" > /mnt/hot/hello.txt && dd if=/dev/urandom of=/mnt/hot/blob bs=1024 count=256 2>/dev/null',
            );
            const md5 = /^([0-9a-f]{32})/.exec((await sh('md5sum /mnt/hot/blob')).trim())![1]!;
            await sh('sync; umount /mnt/hot', 600_000);
            const from = q.messages.length;
            await ok(q, 'device_del', { id: 'hd1' });
            const deleted = await q.event('DEVICE_DELETED', from, 60_000);
            expect((deleted['data'] as { device?: string }).device).toBe('hd1');
            expect(await until('[ ! -e /sys/block/sda ]')).not.toContain('TIMEOUT');
            expect((await sh('ls /sys/block')).trim()).toBe('');
            await ok(q, 'blockdev-del', { 'node-name': 'hot0' });
            // What the guest wrote is in the image, and the image is clean.
            expect(run('qemu-img', ['check', '-U', disk])).toMatch(/No errors were found on the image\./);
            if (hasHostTool('debugfs')) {
              const raw = join(dir, 'hot.raw');
              run('qemu-img', ['convert', '-U', '-O', 'raw', disk, raw]);
              expect(run('debugfs', ['-R', 'cat /hello.txt', raw])).toBe('written on a hot-plugged disk\n');
              const out = join(dir, 'blob');
              run('debugfs', ['-R', `dump /blob ${out}`, raw]);
              expect(run('md5sum', [out]).slice(0, 32)).toBe(md5);
            }

            // --- A serial port: chardev-add a socket, device_add virtserialport on it.
            expect((await sh('ls /sys/class/virtio-ports')).trim()).toBe('');
            await ok(q, 'chardev-add', {
              id: 'c1',
              backend: {
                type: 'socket',
                data: { addr: { type: 'unix', data: { path: portPath } }, server: true, wait: false },
              },
            });
            const fromPort = q.messages.length;
            await ok(q, 'device_add', {
              driver: 'virtserialport',
              bus: 'vser0.0',
              name: 'org.vmstudio.test',
              chardev: 'c1',
              id: 'port1',
            });
            expect(await until('grep -qs org.vmstudio.test /sys/class/virtio-ports/*/name')).not.toContain(
              'TIMEOUT',
            );
            const port = /virtio-ports\/(vport\w+)\/name/.exec(
              await sh('grep -l org.vmstudio.test /sys/class/virtio-ports/*/name'),
            )![1]!;
            await until(`[ -c /dev/${port} ]`, 30);
            host = net.connect(portPath);
            await new Promise<void>((res, rej) => {
              host!.once('connect', () => res());
              host!.once('error', rej);
            });
            let fromGuest = '';
            host.setEncoding('utf8');
            host.on('data', (d: string) => (fromGuest += d));
            // guest -> host
            await sh(`echo guest-to-host > /dev/${port}`);
            const deadline = Date.now() + 120_000;
            while (!fromGuest.includes('guest-to-host\n') && Date.now() < deadline)
              await new Promise((r) => setTimeout(r, 100));
            expect(fromGuest).toBe('guest-to-host\n');
            // host -> guest
            // Started from a subshell, the reader is no job of the interactive shell: no "[1]+ Done"
            // notice when it ends, which busybox prints over the line being typed (and can eat a key).
            await sh(`rm -f /tmp/rx; ( (head -n 1 /dev/${port} > /tmp/rx) & ); echo started`);
            await sh('sleep 1');
            host.write('host-to-guest\n');
            expect(await until('grep -q host-to-guest /tmp/rx')).not.toContain('TIMEOUT');
            expect((await sh('cat /tmp/rx')).trim()).toBe('host-to-guest');
            // The guest opened the port: VSERPORT_CHANGE; the chardev cannot go while the port exists.
            const opened = await q.event('VSERPORT_CHANGE', fromPort, 10_000);
            expect(opened['data']).toEqual({ id: 'port1', open: true });
            const busy = await q.execute('chardev-remove', { id: 'c1' });
            expect(busy['error']).toEqual({ class: 'GenericError', desc: "Chardev 'c1' is busy" });
            const from2 = q.messages.length;
            await ok(q, 'device_del', { id: 'port1' });
            const deleted2 = await q.event('DEVICE_DELETED', from2, 60_000);
            expect((deleted2['data'] as { device?: string }).device).toBe('port1');
            expect(await until(`[ ! -e /sys/class/virtio-ports/${port} ]`)).not.toContain('TIMEOUT');
            expect((await sh('ls /sys/class/virtio-ports')).trim()).toBe('');
            expect(await sh(`ls /dev/${port} 2>&1`)).toMatch(/No such file/);
            await ok(q, 'chardev-remove', { id: 'c1' });
            host.destroy();

            expect(await powerOff(vm, 300_000)).toEqual({ code: 0, signal: null });
          },
          { command: ON_QEMU ? 'qemu-system-riscv64' : undefined, onData },
        );
      } finally {
        host?.destroy();
        await q?.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
