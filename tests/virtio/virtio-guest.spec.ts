/**
 * The Debian guest on our engine with virtio-blk and virtio-rng on the `virt` machine's virtio-mmio
 * slots:
 * - a blank qcow2 disk (qemu-img create) is formatted (busybox mke2fs: ext2), mounted, written,
 *   synced, unmounted; after poweroff `qemu-img check` finds the image clean and, converted to raw,
 *   Debian's debugfs sees the files with the contents the guest wrote;
 * - a second disk, an ext4 filesystem made on the host and turned into qcow2 by `qemu-img convert`,
 *   is mounted and read by the guest (file contents and checksum);
 * - /dev/hwrng gives the guest 64 bytes.
 *
 * Skipped (with the reason) when the guest, qemu-img, mkfs.ext4 or debugfs is missing.
 */
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SerialProcess } from '../guest/serial-session.js';
import {
  guestEngineArgs,
  guestShell,
  hostToolPath,
  hostRun as run,
  needGuest,
  powerOff,
  withGuestAtPrompt,
} from '../machine/guest-on-engine.js';

describe('virtio-blk and virtio-rng in the Debian guest on our engine', () => {
  it(
    'formats, mounts and writes a qcow2 disk; reads a host-made image; reads /dev/hwrng',
    { timeout: 1_800_000 },
    async (ctx) => {
      const g = await needGuest(ctx, { hostTools: ['qemu-img', 'mkfs.ext4', 'debugfs'] });
      const dir = mkdtempSync(join(tmpdir(), 'vmstudio-virtio-'));
      try {
        // Disk 1: blank qcow2 from qemu-img.
        const blank = join(dir, 'blank.qcow2');
        run('qemu-img', ['create', '-q', '-f', 'qcow2', blank, '64M']);
        // Disk 2: an ext4 filesystem made on the host, converted to qcow2.
        const src = join(dir, 'src');
        mkdirSync(src);
        const payload = randomBytes(300 * 1024);
        writeFileSync(join(src, 'payload.bin'), payload);
        writeFileSync(join(src, 'note.txt'), 'made on the host\n');
        const raw = join(dir, 'host.raw');
        run('mkfs.ext4', ['-q', '-F', '-d', src, raw, '32M']);
        const hostQcow = join(dir, 'host.qcow2');
        run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, hostQcow]);

        const args = guestEngineArgs(g, {
          extra: [
            '-drive',
            `file=${blank},if=none,id=d0`,
            '-device',
            'virtio-blk-device,drive=d0,serial=VMS-BLANK',
            '-drive',
            `file=${hostQcow},if=none,id=d1,format=qcow2`,
            '-device',
            'virtio-blk-device,drive=d1,serial=VMS-HOST',
            '-device',
            'virtio-rng-device',
          ],
        });
        // What the guest's kernel said about virtio, for a failure report.
        const diagnose = async (vm: SerialProcess) =>
          `guest dmesg:\n${await vm.session
            .run('dmesg | grep -i -E "virtio|vd[a-z]|blk" | tail -40', { timeoutMs: 120_000 })
            .catch(() => '(no dmesg)')}`;
        const guestMd5 = await withGuestAtPrompt(
          args,
          async (vm) => {
            const sh = guestShell(vm, 300_000);
            // Which /dev/vdX is which, by serial (GET_ID).
            const serials = await sh('for d in /sys/block/vd*; do echo "${d##*/} $(cat $d/serial)"; done');
            const devOf = (serial: string) => {
              const m = new RegExp(`^(vd[a-z]) ${serial}\\s*$`, 'm').exec(serials);
              if (!m) throw new Error(`no disk with serial ${serial} in:\n${serials}`);
              return `/dev/${m[1]}`;
            };
            const blankDev = devOf('VMS-BLANK');
            const hostDev = devOf('VMS-HOST');
            expect((await sh(`cat /sys/block/${blankDev.slice(5)}/size`)).trim()).toBe(
              String((64 * 1024 * 1024) / 512),
            );

            // virtio-rng
            expect(await sh('cat /sys/class/misc/hw_random/rng_current')).toMatch(/virtio_rng/);
            const words = (await sh('head -c 64 /dev/hwrng | od -An -tx1 | wc -w')).trim();
            expect(words).toBe('64');

            // The host-made image.
            await sh('mkdir -p /mnt/h /mnt/b');
            await sh(`mount -o ro -t ext4 ${hostDev} /mnt/h`);
            expect(await sh('cat /mnt/h/note.txt')).toContain('made on the host');
            const md5Payload = createHash('md5').update(payload).digest('hex');
            expect(await sh('md5sum /mnt/h/payload.bin')).toContain(md5Payload);
            await sh('umount /mnt/h');

            // Format and fill the blank disk.
            await sh(`mke2fs -q ${blankDev}`, 600_000);
            await sh(`mount -t ext2 ${blankDev} /mnt/b`);
            await sh('echo "written by the guest" > /mnt/b/hello.txt');
            await sh('dd if=/dev/urandom of=/mnt/b/blob bs=1024 count=512 2>/dev/null');
            await sh('mkdir /mnt/b/dir && cp /mnt/b/hello.txt /mnt/b/dir/copy.txt');
            const md5 = /^([0-9a-f]{32})/.exec((await sh('md5sum /mnt/b/blob')).trim())![1]!;
            await sh('sync', 600_000);
            await sh('umount /mnt/b', 600_000);
            expect(await powerOff(vm, 300_000)).toEqual({ code: 0, signal: null });
            return md5;
          },
          { diagnose },
        );

        // The host checks what the guest wrote.
        const check = run('qemu-img', ['check', blank]);
        expect(check).toMatch(/No errors were found on the image\./);
        const out = join(dir, 'blank.raw');
        run('qemu-img', ['convert', '-O', 'raw', blank, out]);
        const ls = run('debugfs', ['-R', 'ls -l /', out]);
        expect(ls).toMatch(/hello\.txt/);
        expect(ls).toMatch(/blob/);
        expect(ls).toMatch(/dir/);
        expect(run('debugfs', ['-R', 'cat /hello.txt', out])).toBe('written by the guest\n');
        expect(run('debugfs', ['-R', 'cat /dir/copy.txt', out])).toBe('written by the guest\n');
        const dumped = join(dir, 'blob.out');
        run('debugfs', ['-R', `dump /blob ${dumped}`, out]);
        expect(createHash('md5').update(readFileSync(dumped)).digest('hex')).toBe(guestMd5);
        // e2fsck agrees the filesystem is clean.
        const fsck = hostToolPath('e2fsck');
        if (fsck) run(fsck, ['-n', '-f', out]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
