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
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DefaultGuest } from '../../assets/guests/debian-riscv64/build.js';
import { defaultGuestForBootTests } from '../helpers/guest-boot.js';
import { GUEST_PROMPT, startSerialProcess, type SerialProcess } from '../guest/serial-session.js';

const ENGINE = join(import.meta.dirname, 'engine-main.ts');
const dir = mkdtempSync(join(tmpdir(), 'vmstudio-guestsnap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether the engine offers virtio-blk-device (`-device help`). */
const haveVirtioBlk = /name "virtio-blk-device"/.test(
  spawnSync(process.execPath, ['--import', 'tsx', ENGINE, '-device', 'help'], { encoding: 'utf8' }).stdout ??
    '',
);

let guest: DefaultGuest | undefined;
let skipReason = '';
const ready = defaultGuestForBootTests().then(
  (g) => void (guest = g),
  (e: unknown) => void (skipReason = `default guest not available offline: ${(e as Error).message}`),
);

/** A minimal QMP client: one command at a time, events skipped. */
class Qmp {
  private buf = '';
  private waiters: Array<(msg: Record<string, unknown>) => void> = [];
  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ('event' in msg) continue;
        this.waiters.shift()?.(msg);
      }
    });
  }

  static async open(path: string): Promise<Qmp> {
    for (let i = 0; ; i++) {
      try {
        const sock = await new Promise<Socket>((res, rej) => {
          const s = connect(path, () => res(s));
          s.once('error', rej);
        });
        const q = new Qmp(sock);
        await q.next(); // greeting
        await q.cmd('qmp_capabilities');
        return q;
      } catch (e) {
        if (i > 200) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((r) => this.waiters.push(r));
  }

  async cmd(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next();
    this.sock.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
    const r = await reply;
    if (r['error']) throw new Error(JSON.stringify(r['error']));
    return r['return'];
  }

  hmp(line: string): Promise<unknown> {
    return this.cmd('human-monitor-command', { 'command-line': line });
  }

  close(): void {
    this.sock.destroy();
  }
}

const hostSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The number a command printed on a line of its own. */
function counter(out: string): number {
  const m = out.match(/^\d+$/gm);
  if (!m) throw new Error(`no counter in ${JSON.stringify(out)}`);
  return Number(m.at(-1));
}

/** The engine on `virt` with a virtio-blk qcow2 disk and QMP on a socket in `dir`. */
function virtArgs(disk: string, sock: string, extra: string[]): string[] {
  return [
    '--import',
    'tsx',
    ENGINE,
    '-M',
    'virt',
    '-m',
    '256M',
    ...extra,
    '-drive',
    `file=${disk},if=none,id=hd0,format=qcow2`,
    '-device',
    'virtio-blk-device,drive=hd0',
    '-qmp',
    `unix:${sock},server=on,wait=off`,
  ];
}

describe.skipIf(!haveVirtioBlk)('snapshots of the virt machine with a virtio-blk disk', () => {
  it('paused board: savevm, disk write, loadvm bring the disk back; qemu-img lists the VM state', async () => {
    const disk = join(dir, 'paused.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
    const sock = join(dir, 'paused.sock');
    const vm = startSerialProcess(
      process.execPath,
      virtArgs(disk, sock, ['-S', '-display', 'none', '-serial', 'none']),
    );
    const qmp = await Qmp.open(sock);
    try {
      expect(await qmp.hmp('qemu-io hd0 "write -P 0x11 0 64k"')).toMatch(/^wrote 65536/);
      expect(await qmp.hmp('savevm s1')).toBe('');
      expect(await qmp.hmp('qemu-io hd0 "write -P 0x22 0 64k"')).toMatch(/^wrote 65536/);
      expect(await qmp.hmp('loadvm s1')).toBe('');
      expect(await qmp.hmp('qemu-io hd0 "read -P 0x11 0 64k"')).toMatch(/^read 65536/);
      expect(await qmp.hmp('info snapshots')).toMatch(/\r\n-- {8}s1 +[\d.]+ KiB /);
      await qmp.cmd('quit');
      expect(await vm.waitExit(60_000)).toEqual({ code: 0, signal: null });
      expect(execFileSync('qemu-img', ['snapshot', '-l', disk], { encoding: 'utf8' })).toMatch(
        /\n1 +s1 +[\d.]+ KiB /,
      );
      expect(execFileSync('qemu-img', ['check', disk], { encoding: 'utf8' })).toMatch(/No errors were found/);
    } finally {
      qmp.close();
      vm.kill();
    }
  });

  it(
    'a guest writing to its disk: memory and disk revert to the same moment',
    { timeout: 3_600_000 },
    async (ctx) => {
      await ready;
      if (!guest) ctx.skip(skipReason);
      const g = guest!;
      const disk = join(dir, 'disk.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
      const sock = join(dir, 'qmp.sock');
      const vm: SerialProcess = startSerialProcess(
        process.execPath,
        virtArgs(disk, sock, [
          '-nographic',
          '-bios',
          g.firmware.fwDynamicBin,
          '-kernel',
          g.kernel,
          '-initrd',
          g.initrd,
          '-append',
          g.append,
        ]),
        { timeoutMs: 120_000 },
      );
      let qmp: Qmp | undefined;
      try {
        await vm.session.waitFor(/VM Studio guest ready/, 3_000_000);
        await vm.session.waitFor(GUEST_PROMPT, 120_000);
        qmp = await Qmp.open(sock);
        const run = (c: string) => vm.session.run(c, { timeoutMs: 300_000 });
        expect(await run('ls /dev/vda')).toBe('/dev/vda\n');
        // The counter goes to memory first, then (synced) to the disk's first sector. The loop is
        // detached (no job notices on the console) and stops when /tmp/stop appears.
        await run(
          "( (i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo $i > /tmp/c; printf '%08d' $i | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null; done) & )",
        );
        // Snapshots are taken with the shell idle at its prompt (the loop runs on), so the restored
        // shell waits for input as the console session expects.
        await hostSleep(5000);
        expect(await qmp.hmp('savevm s1')).toBe('');
        await hostSleep(5000);
        const late = counter(await run('cat /tmp/c'));
        expect(late).toBeGreaterThan(0);
        expect(await qmp.hmp('loadvm s1')).toBe('');
        // The restored guest runs on: stop the loop, then read memory and (uncached) disk.
        await run('touch /tmp/stop; sleep 2');
        const mem = counter(await run('cat /tmp/c'));
        await run('sync; echo 3 > /proc/sys/vm/drop_caches');
        const onDisk = counter(await run('dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 8; echo'));
        console.log(`[guest snapshot] counter before loadvm ${late}, after: memory ${mem}, disk ${onDisk}`);
        expect(mem).toBeLessThan(late);
        expect([mem - 1, mem]).toContain(onDisk);
        const list = execFileSync('qemu-img', ['snapshot', '-U', '-l', disk], { encoding: 'utf8' });
        expect(list).toMatch(
          /\n1 +s1 +[\d.]+ [KMG]iB \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \d\d:\d\d:\d\d\.\d{3} +\n/,
        );
        vm.session.sendLine('poweroff -f');
        expect(await vm.waitExit(120_000)).toEqual({ code: 0, signal: null });
        expect(execFileSync('qemu-img', ['check', disk], { encoding: 'utf8' })).toMatch(
          /No errors were found/,
        );
      } catch (e) {
        throw new Error(`${(e as Error).message}\nengine stderr: ${vm.stderr()}`);
      } finally {
        qmp?.close();
        vm.kill();
      }
    },
  );
});
