/**
 * The snapshot test with a real guest: VM Studio's default Debian guest on our `virt`
 * machine with a virtio-blk qcow2 disk keeps writing a counter to memory (/tmp, a tmpfs) and to the
 * disk's first sector. `savevm` is taken while it writes, the guest goes on, then `loadvm` brings
 * back memory and disk to the same moment: after the revert the counter in memory is the old one
 * and the disk holds the same count (or the one before, if the loop stood between its two writes),
 * the guest keeps running (QEMU 7.2 leaves a reverted riscv64 Linux hung), and `qemu-img snapshot
 * -l` lists the snapshot with its VM state.
 *
 * One boot (1-2 minutes until the CPU JIT lands, far longer on a loaded machine); skipped when the
 * guest is not built. Before it, the same savevm/loadvm on the paused `virt` machine with its
 * virtio-blk disk (no boot): every device of the board goes through the qcow2 image and back.
 * Both need the engine's virtio-blk-device.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSerialProcess } from '../guest/serial-session.js';
import type { QmpTestClient } from '../qmp/qmp-test-client.js';
import {
  guestEngineArgs,
  guestShell,
  hostRun,
  hostSleep,
  needGuest,
  openQmp,
  powerOff,
  qmpReturn,
  qmpSocketArgs,
  withGuestAtPrompt,
} from '../machine/guest-on-engine.js';

const ENGINE = join(import.meta.dirname, 'engine-main.ts');
const dir = mkdtempSync(join(tmpdir(), 'vmstudio-guestsnap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether the engine offers virtio-blk-device (`-device help`). */
const haveVirtioBlk = /name "virtio-blk-device"/.test(
  spawnSync(process.execPath, ['--import', 'tsx', ENGINE, '-device', 'help'], { encoding: 'utf8' }).stdout ??
    '',
);

/** An HMP command through QMP; its output (savevm and loadvm of a running guest take a while). */
const hmp = (q: QmpTestClient, line: string) =>
  qmpReturn(q, 'human-monitor-command', { 'command-line': line });

/** The number a command printed on a line of its own. */
function counter(out: string): number {
  const m = out.match(/^\d+$/gm);
  if (!m) throw new Error(`no counter in ${JSON.stringify(out)}`);
  return Number(m.at(-1));
}

/** The board's virtio-blk qcow2 disk and QMP on a socket in `dir`. */
const diskAndQmp = (disk: string, sock: string): string[] => [
  '-drive',
  `file=${disk},if=none,id=hd0,format=qcow2`,
  '-device',
  'virtio-blk-device,drive=hd0',
  ...qmpSocketArgs(sock),
];

describe.skipIf(!haveVirtioBlk)('snapshots of the virt machine with a virtio-blk disk', () => {
  it('paused board: savevm, disk write, loadvm bring the disk back; qemu-img lists the VM state', async () => {
    const disk = join(dir, 'paused.qcow2');
    hostRun('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
    const sock = join(dir, 'paused.sock');
    const vm = startSerialProcess(process.execPath, [
      '--import',
      'tsx',
      ENGINE,
      '-M',
      'virt',
      '-m',
      '256M',
      '-S',
      '-display',
      'none',
      '-serial',
      'none',
      ...diskAndQmp(disk, sock),
    ]);
    let qmp: QmpTestClient | undefined;
    try {
      qmp = await openQmp(sock);
      expect(await hmp(qmp, 'qemu-io hd0 "write -P 0x11 0 64k"')).toMatch(/^wrote 65536/);
      expect(await hmp(qmp, 'savevm s1')).toBe('');
      expect(await hmp(qmp, 'qemu-io hd0 "write -P 0x22 0 64k"')).toMatch(/^wrote 65536/);
      expect(await hmp(qmp, 'loadvm s1')).toBe('');
      expect(await hmp(qmp, 'qemu-io hd0 "read -P 0x11 0 64k"')).toMatch(/^read 65536/);
      expect(await hmp(qmp, 'info snapshots')).toMatch(/\r\n-- {8}s1 +[\d.]+ KiB /);
      await qmpReturn(qmp, 'quit');
      expect(await vm.waitExit(60_000)).toEqual({ code: 0, signal: null });
      expect(hostRun('qemu-img', ['snapshot', '-l', disk])).toMatch(/\n1 +s1 +[\d.]+ KiB /);
      expect(hostRun('qemu-img', ['check', disk])).toMatch(/No errors were found/);
    } finally {
      await qmp?.close();
      vm.kill();
    }
  });

  it(
    'a guest writing to its disk: memory and disk revert to the same moment',
    { timeout: 3_600_000 },
    async (ctx) => {
      const g = await needGuest(ctx);
      const disk = join(dir, 'disk.qcow2');
      hostRun('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
      const sock = join(dir, 'qmp.sock');
      const args = guestEngineArgs(g, { memory: '256M', extra: diskAndQmp(disk, sock) });
      let qmp: QmpTestClient | undefined;
      try {
        await withGuestAtPrompt(
          args,
          async (vm) => {
            qmp = await openQmp(sock);
            const run = guestShell(vm, 300_000);
            expect(await run('ls /dev/vda')).toBe('/dev/vda\n');
            // The counter goes to memory first, then (synced) to the disk's first sector. The loop is
            // detached (no job notices on the console) and stops when /tmp/stop appears. It replaces
            // /tmp/c by renaming, so a reader never sees the file between truncation and write.
            await run(
              "( (i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/c; printf '%08d' $i | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null; done) & )",
            );
            // Snapshots are taken with the shell idle at its prompt (the loop runs on), so the restored
            // shell waits for input as the console session expects.
            await hostSleep(5000);
            expect(await hmp(qmp, 'savevm s1')).toBe('');
            await hostSleep(5000);
            const late = counter(await run('cat /tmp/c'));
            expect(late).toBeGreaterThan(0);
            expect(await hmp(qmp, 'loadvm s1')).toBe('');
            // The restored guest runs on: stop the loop, then read memory and (uncached) disk.
            await run('touch /tmp/stop; sleep 2');
            const mem = counter(await run('cat /tmp/c'));
            await run('sync; echo 3 > /proc/sys/vm/drop_caches');
            const onDisk = counter(await run('dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 8; echo'));
            console.log(
              `[guest snapshot] counter before loadvm ${late}, after: memory ${mem}, disk ${onDisk}`,
            );
            expect(mem).toBeLessThan(late);
            expect([mem - 1, mem]).toContain(onDisk);
            const list = hostRun('qemu-img', ['snapshot', '-U', '-l', disk]);
            expect(list).toMatch(
              /\n1 +s1 +[\d.]+ [KMG]iB \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \d\d:\d\d:\d\d\.\d{3} +\n/,
            );
            expect(await powerOff(vm, 120_000)).toEqual({ code: 0, signal: null });
            expect(hostRun('qemu-img', ['check', disk])).toMatch(/No errors were found/);
          },
          { bootTimeoutMs: 3_120_000 },
        );
      } finally {
        await qmp?.close();
      }
    },
  );
});
