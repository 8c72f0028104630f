/**
 * Snapshots inside qcow2 images, in process: the `none` machine with a test device and two disks
 * (a `-drive if=none` and a `-blockdev` node), HMP savevm / loadvm / delvm / info snapshots and
 * qemu-io, and the QMP snapshot jobs. What is checked: disks and device state revert together, the
 * VM state lands in the right image with the size, date and clock `qemu-img` reports, refusals
 * change nothing, a savevm failing on one image leaves no half snapshot, and QEMU's texts (from
 * the reference transcripts where we have them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { objectUnparent, qomResetRoot } from '../../engine/qom/object.js';
import { machineCreate, machineRunBoardInit } from '../../engine/hw/core/machine.js';
import { qdevDeviceAdd } from '../../engine/hw/core/qdev-monitor.js';
import { testBridgeCreate } from '../../engine/hw/testdev/test-bridge.js';
import '../../engine/hw/testdev/index.js';
import type { TestDevice } from '../../engine/hw/testdev/test-device.js';
import { qdict } from '../../engine/qobject/qobject.js';
import {
  runstateGet,
  runstateResetForTests,
  setRunStateEventHook,
  vmStart,
} from '../../engine/system/runstate.js';
import { qmpHumanMonitorCommand } from '../../engine/monitor/hmp.js';
import { setSnapshotStoreDir } from '../../engine/migration/snapshot-store.js';
import { qmpSnapshotDelete, qmpSnapshotLoad, qmpSnapshotSave } from '../../engine/migration/snapshot.js';
import {
  jobsResetForTests,
  qmpJobDismiss,
  qmpQueryJobs,
  setJobEventSink,
} from '../../engine/migration/job.js';
import { virtualClock, virtualClockFollowRunState } from '../../engine/system/virtual-clock.js';
import { blockdevCloseAll, blockdevParseCli, driveNew, qmpBlockdevAdd } from '../../engine/block/blockdev.js';
import { bdrvFindNode } from '../../engine/block/block.js';
import { blkByName } from '../../engine/block/block-backend.js';
import { BlockIoError } from '../../engine/block/block-error.js';
import {
  bdrvReadSnapshotVmstate,
  bdrvSnapshotDriver,
  bdrvSnapshotFind,
} from '../../engine/block/snapshot.js';
import { qcow2SnapshotCreate, qcow2SnapshotDelete } from '../../engine/block/qcow2-snapshot.js';
import { readReference } from '../helpers/reference.js';

let dir: string;
let dev: TestDevice;
let events: string[];
let fileA: string;
let fileB: string;

const hmp = (line: string) => qmpHumanMonitorCommand(line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8' });
}

/** `qemu-img info` of an image the engine holds open (shared lock). */
function imgInfo(file: string): { snapshots?: Array<Record<string, number | string>> } {
  return JSON.parse(qemuImg('info', '-U', '--output=json', file)) as {
    snapshots?: Array<Record<string, number | string>>;
  };
}

/** What qemu-io reads at `off`: "ok" when every byte is `pattern`. */
async function pattern(device: string, pat: number, off = 0, len = '64k'): Promise<'ok' | 'differs'> {
  const out = await hmp(`qemu-io ${device} "read -P 0x${pat.toString(16)} ${off} ${len}"`);
  expect(out).toMatch(/^(Pattern verification failed.*\r\n)?read \d+\/\d+ bytes at offset/);
  return out.startsWith('Pattern verification failed') ? 'differs' : 'ok';
}

async function write(device: string, pat: number, off = 0, len = '64k'): Promise<void> {
  expect(await hmp(`qemu-io ${device} "write -P 0x${pat.toString(16)} ${off} ${len}"`)).toMatch(/^wrote /);
}

async function job(start: () => void): Promise<{ status: string; error?: string }> {
  start();
  for (let i = 0; i < 200; i++) {
    const j = qmpQueryJobs().at(-1)!;
    if (j.status === 'concluded') {
      qmpJobDismiss({ id: j.id });
      return { status: j.status, ...(j.error !== undefined ? { error: j.error } : {}) };
    }
    await sleep(10);
  }
  throw new Error('job did not conclude');
}

beforeEach(async () => {
  qomResetRoot();
  runstateResetForTests();
  virtualClock.reset();
  virtualClockFollowRunState();
  jobsResetForTests();
  setSnapshotStoreDir(null);
  events = [];
  setRunStateEventHook((e) => events.push(e));
  setJobEventSink((e, d) => events.push(`${e} ${String(d['id'])} ${String(d['status'])}`));
  dir = mkdtempSync(join(tmpdir(), 'vmstudio-snapq-'));
  fileA = join(dir, 'a.qcow2');
  fileB = join(dir, 'b.qcow2');
  qemuImg('create', '-q', '-f', 'qcow2', fileA, '16M');
  qemuImg('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10,cluster_size=4096', fileB, '8M');
  const m = machineCreate('none');
  testBridgeCreate();
  machineRunBoardInit(m);
  dev = qdevDeviceAdd(qdict({ driver: 'vmstudio-test-device', id: 't0' })) as TestDevice;
  await driveNew(`file=${fileA},format=qcow2,if=none,id=hd0,node-name=hd0-fmt`);
  await qmpBlockdevAdd(
    blockdevParseCli(
      `driver=qcow2,node-name=disk1,file.driver=file,file.filename=${fileB},file.node-name=disk1-file`,
    ),
  );
});

afterEach(async () => {
  setJobEventSink(null);
  await blockdevCloseAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('HMP savevm / loadvm over two qcow2 disks', () => {
  it('reverts device state and both disks together', async () => {
    dev.doorbell = 7;
    await write('hd0', 0x11);
    await write('disk1', 0x12, 4096, '8k');
    expect(await hmp('savevm s1')).toBe('');
    dev.doorbell = 9;
    await write('hd0', 0x55);
    await write('disk1', 0x56, 4096, '8k');
    await write('disk1', 0x57, 1 << 20, '4k');
    expect(await hmp('loadvm s1')).toBe('');
    expect(dev.doorbell).toBe(7);
    expect(await pattern('hd0', 0x11)).toBe('ok');
    expect(await pattern('disk1', 0x12, 4096, '8k')).toBe('ok');
    expect(await pattern('disk1', 0, 1 << 20, '4k')).toBe('ok');
    // Going back again works from the reverted state too (the snapshot is still shared).
    await write('hd0', 0x66);
    expect(await hmp('loadvm s1')).toBe('');
    expect(await pattern('hd0', 0x11)).toBe('ok');
  });

  it('stores the VM state in the first disk, with the size, date and clock qemu-img lists', async () => {
    vmStart();
    await sleep(30);
    const before = Date.now();
    const clockBefore = virtualClock.ns();
    events.length = 0;
    expect(await hmp('savevm s1')).toBe('');
    const clockAfter = virtualClock.ns();
    expect(events).toEqual(['STOP', 'RESUME']);
    expect(runstateGet()).toBe('running');
    const a = imgInfo(fileA).snapshots!;
    const b = imgInfo(fileB).snapshots!;
    expect(a.map((s) => s['name'])).toEqual(['s1']);
    expect(b.map((s) => s['name'])).toEqual(['s1']);
    // The stream is in hd0's snapshot, starting with QEMU's magic; disk1 has a disk-only entry.
    const bs = blkByName('hd0')!.root!;
    const stream = await bdrvReadSnapshotVmstate(bs, bdrvSnapshotFind(bs, 's1')!);
    expect(Buffer.from(stream.subarray(0, 4)).toString('latin1')).toBe('QEVM');
    expect(a[0]!['vm-state-size']).toBe(stream.length);
    expect(b[0]!['vm-state-size']).toBe(0);
    const clock = Number(a[0]!['vm-clock-sec']) * 1e9 + Number(a[0]!['vm-clock-nsec']);
    expect(clock).toBeGreaterThanOrEqual(clockBefore);
    expect(clock).toBeLessThanOrEqual(clockAfter);
    expect(Number(a[0]!['date-sec'])).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(Number(a[0]!['date-sec'])).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(b[0]!['vm-clock-nsec']).toBe(a[0]!['vm-clock-nsec']);
    // qemu-img's table shows the same row as our `info snapshots` (but with the real id).
    const list = qemuImg('snapshot', '-U', '-l', fileA).split('\n');
    const ours = (await hmp('info snapshots')).split('\r\n');
    expect(ours[0]).toBe('List of snapshots present on all disks:');
    expect(list[1]).toBe(ours[1]);
    expect(list[2]!.slice(0, 2)).toBe('1 ');
    expect(list[2]!.slice(10)).toBe(ours[2]!.slice(10));
    expect(ours[2]!.slice(0, 10)).toBe('--        ');
    expect(list[2]).toMatch(
      /^1 +s1 +\d+(\.\d+)? (B|KiB) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d 00:00:00\.\d{3} {11}$/,
    );
  });

  it('savevm of an existing name replaces it on every disk; delvm removes it everywhere', async () => {
    await hmp('savevm s1');
    await hmp('savevm s2');
    await write('hd0', 0x21);
    await hmp('savevm s1');
    expect(imgInfo(fileA).snapshots!.map((s) => s['name'])).toEqual(['s2', 's1']);
    expect(imgInfo(fileB).snapshots!.map((s) => s['name'])).toEqual(['s2', 's1']);
    await write('hd0', 0x22);
    await hmp('loadvm s1');
    expect(await pattern('hd0', 0x21)).toBe('ok');
    expect(await hmp('delvm s1')).toBe('');
    expect(await hmp('delvm nosuch')).toBe('');
    expect(imgInfo(fileA).snapshots!.map((s) => s['name'])).toEqual(['s2']);
    expect(imgInfo(fileB).snapshots!.map((s) => s['name'])).toEqual(['s2']);
  });

  it('info snapshots: snapshots on all disks, then the partial ones per disk', async () => {
    expect(await hmp('info snapshots')).toBe('There is no snapshot available.\r\n');
    await hmp('savevm s1');
    await qcow2SnapshotCreate(bdrvSnapshotDriver(bdrvFindNode('disk1')!)!, { name: 'only-b' });
    const lines = (await hmp('info snapshots')).split('\r\n');
    expect(lines[0]).toBe('List of snapshots present on all disks:');
    expect(lines[2]).toMatch(/^-- {8}s1 /);
    expect(lines[3]).toBe('');
    // disk1 is a -blockdev node: QEMU names it by its (empty) device name.
    expect(lines[4]).toBe("List of partial (non-loadable) snapshots on '':");
    expect(lines[6]).toMatch(/^2 {9}only-b {16}0 B /);
    await qcow2SnapshotDelete(bdrvSnapshotDriver(bdrvFindNode('hd0-fmt')!)!, null, 's1');
    const none = (await hmp('info snapshots')).split('\r\n');
    expect(none.slice(0, 2)).toEqual(['List of snapshots present on all disks:', 'None']);
    expect(none[3]).toBe("List of partial (non-loadable) snapshots on '':");
    expect(none.filter((l) => /^\d+ +(s1|only-b) /.test(l))).toHaveLength(2);
  });
});

describe('refusals change nothing', () => {
  it('loadvm of a snapshot missing on one disk', async () => {
    dev.doorbell = 1;
    await hmp('savevm s1');
    await qcow2SnapshotDelete(bdrvSnapshotDriver(bdrvFindNode('disk1')!)!, null, 's1');
    dev.doorbell = 2;
    await write('hd0', 0x31);
    expect(await hmp('loadvm s1')).toBe("Error: Snapshot 's1' does not exist in one or more devices\r\n");
    expect(dev.doorbell).toBe(2);
    expect(await pattern('hd0', 0x31)).toBe('ok');
  });

  it('a machine state that no longer fits: QEMU texts, disks not reverted', async () => {
    const t1 = qdevDeviceAdd(qdict({ driver: 'vmstudio-test-device', id: 't1' })) as TestDevice;
    await write('hd0', 0x41);
    await hmp('savevm s1');
    await write('hd0', 0x42);
    dev.doorbell = 5;
    objectUnparent(t1);
    expect(await hmp('loadvm s1')).toBe(
      "Unknown savevm section or instance 'vmstudio-test-device' 1. Make sure that your current VM setup matches your saved VM setup, including any hotplugged devices\r\n" +
        'Error: Error -22 while loading VM state\r\n',
    );
    expect(dev.doorbell).toBe(5);
    expect(await pattern('hd0', 0x42)).toBe('ok');
  });

  it('a disk-only snapshot is not loaded', async () => {
    for (const n of ['hd0-fmt', 'disk1'])
      await qcow2SnapshotCreate(bdrvSnapshotDriver(bdrvFindNode(n)!)!, { name: 'd' });
    await write('hd0', 0x43);
    expect(await hmp('loadvm d')).toBe(
      'Error: This is a disk-only snapshot. Revert to it  offline using qemu-img\r\n',
    );
    expect(await pattern('hd0', 0x43)).toBe('ok');
  });

  it('loadvm by a snapshot id is refused (names only, as QEMU 7.2)', async () => {
    await hmp('savevm s1');
    expect(await hmp('loadvm 1')).toBe("Error: Snapshot '1' does not exist in one or more devices\r\n");
  });
});

describe('savevm failures leave no half snapshot', () => {
  /** Make the image file under `node` fail writes with ENOSPC while `on()` says so. */
  function diskFull(node: string, on: () => boolean): void {
    const file = bdrvFindNode(node)!.file!.drv;
    const real = file.pwrite.bind(file);
    file.pwrite = (off, buf) => (on() ? Promise.reject(new BlockIoError('ENOSPC')) : real(off, buf));
  }

  it('the second image fails: the first one loses its new snapshot again, older ones stay', async () => {
    await hmp('savevm keep');
    let full = true;
    diskFull('disk1', () => full);
    vmStart();
    events.length = 0;
    expect(await hmp('savevm s2')).toBe("Error: Could not create snapshot 's2' on 'disk1'\r\n");
    expect(events).toEqual(['STOP', 'RESUME']);
    full = false;
    expect(imgInfo(fileA).snapshots!.map((s) => s['name'])).toEqual(['keep']);
    expect(imgInfo(fileB).snapshots!.map((s) => s['name'])).toEqual(['keep']);
    // The images stay consistent (a failed allocation may leak, never corrupt).
    await blockdevCloseAll();
    for (const f of [fileA, fileB]) expect(spawnSync('qemu-img', ['check', f]).status).not.toBe(2);
  });

  it('the VM state cannot be written: no snapshot anywhere', async () => {
    let full = true;
    diskFull('hd0-fmt', () => full);
    expect(await hmp('savevm s1')).toBe('Error: Error while writing VM state: No space left on device\r\n');
    full = false;
    expect(imgInfo(fileA).snapshots).toBeUndefined();
    expect(imgInfo(fileB).snapshots).toBeUndefined();
  });

  it('an existing name is not deleted by a failing QMP save (only what was created goes)', async () => {
    const d1 = bdrvSnapshotDriver(bdrvFindNode('disk1')!)!;
    await qcow2SnapshotCreate(d1, { name: 'vm-x' });
    let full = true;
    diskFull('disk1', () => full);
    const r = await job(() =>
      qmpSnapshotSave({ 'job-id': 'j', tag: 'other', vmstate: 'hd0-fmt', devices: ['hd0-fmt', 'disk1'] }),
    );
    full = false;
    expect(r.error).toBe("Could not create snapshot 'other' on 'disk1'");
    expect(d1.snapshots.map((s) => s.name)).toEqual(['vm-x']);
    expect(imgInfo(fileA).snapshots).toBeUndefined();
  });
});

describe('QMP snapshot jobs', () => {
  it('vmstate and devices choose the images; load and delete follow devices', async () => {
    dev.doorbell = 3;
    await write('disk1', 0x71);
    events.length = 0;
    expect(
      await job(() =>
        qmpSnapshotSave({ 'job-id': 'save0', tag: 't', vmstate: 'disk1', devices: ['hd0-fmt', 'disk1'] }),
      ),
    ).toEqual({
      status: 'concluded',
    });
    const jobEvents = events.filter((e) => e.startsWith('JOB'));
    expect(jobEvents.map((e) => e.split(' ').at(-1))).toEqual(referenceStatuses('save0'));
    expect(imgInfo(fileA).snapshots![0]!['vm-state-size']).toBe(0);
    expect(Number(imgInfo(fileB).snapshots![0]!['vm-state-size'])).toBeGreaterThan(0);
    dev.doorbell = 4;
    await write('disk1', 0x72);
    events.length = 0;
    expect(
      await job(() => qmpSnapshotLoad({ 'job-id': 'load0', tag: 't', vmstate: 'disk1', devices: ['disk1'] })),
    ).toEqual({
      status: 'concluded',
    });
    expect(events.filter((e) => e.startsWith('JOB')).map((e) => e.split(' ').at(-1))).toEqual(
      referenceStatuses('load0'),
    );
    expect(dev.doorbell).toBe(3);
    expect(await pattern('disk1', 0x71)).toBe('ok');
    events.length = 0;
    expect(
      await job(() =>
        qmpSnapshotLoad({ 'job-id': 'load-bad', tag: 'nope', vmstate: 'disk1', devices: ['disk1'] }),
      ),
    ).toEqual({
      status: 'concluded',
      error: "Snapshot 'nope' does not exist in one or more devices",
    });
    expect(events.filter((e) => e.startsWith('JOB')).map((e) => e.split(' ').at(-1))).toEqual(
      referenceStatuses('load-bad'),
    );
    expect(await job(() => qmpSnapshotDelete({ 'job-id': 'del0', tag: 't', devices: ['disk1'] }))).toEqual({
      status: 'concluded',
    });
    expect(imgInfo(fileB).snapshots).toBeUndefined();
    expect(imgInfo(fileA).snapshots!.map((s) => s['name'])).toEqual(['t']);
  });

  it("QEMU's errors", async () => {
    const err = async (start: () => void) => (await job(start)).error;
    const save = (tag: string, vmstate: string, devices: string[]) => () =>
      qmpSnapshotSave({ 'job-id': 'j', tag, vmstate, devices });
    expect(await err(save('t', 'hd0', ['hd0']))).toBe("No block device node 'hd0'");
    expect(await err(save('t', 'x', []))).toBe('At least one device is required for snapshot');
    expect(await err(save('t', 'disk1-file', ['disk1-file']))).toBe(
      "Device 'disk1-file' is writable but does not support snapshots",
    );
    expect(await err(save('t', 'hd0-fmt', ['disk1']))).toBe("vmstate block device 'hd0-fmt' does not exist");
    expect(await err(save('t', 'disk1', ['disk1']))).toBeUndefined();
    expect(await err(save('t', 'disk1', ['disk1']))).toBe(
      "Snapshot 't' already exists in one or more devices",
    );
    expect(
      await err(() =>
        qmpSnapshotLoad({ 'job-id': 'j', tag: 't', vmstate: 'disk1', devices: ['disk1', 'hd0-fmt'] }),
      ),
    ).toBe("Snapshot 't' does not exist in one or more devices");
    expect(
      await err(() => qmpSnapshotDelete({ 'job-id': 'j', tag: 'nosuch', devices: ['disk1'] })),
    ).toBeUndefined();
  });
});

/** The statuses QEMU 7.2 announced for job `id` (qmp-jobs-events.txt), through its dismissal. */
function referenceStatuses(id: string): string[] {
  return readReference('qmp-jobs-events.txt')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { data: { id: string; status: string } }).data)
    .filter((d) => d.id === id)
    .map((d) => d.status);
}

/** Pairs of (HMP command line or QMP command, reply) from a reference transcript. */
function transcript(name: string): Array<{ cmd: Record<string, any>; reply: Record<string, any> }> {
  const lines = readReference(name)
    .split('\n')
    .map((l) => /^\[[^\]]*\] (->|<-) (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ dir: m[1]!, msg: JSON.parse(m[2]!) as Record<string, any> }));
  return lines
    .filter((l) => l.dir === '->')
    .map((l) => ({
      cmd: l.msg,
      reply: lines.find((r) => r.dir === '<-' && r.msg['id'] === l.msg['id'])!.msg,
    }));
}

describe('reference transcripts', () => {
  it('neg-raw: a writable raw disk refuses savevm, loadvm and the job', async () => {
    await blockdevCloseAll();
    const raw = join(dir, 'disk.img');
    qemuImg('create', '-q', '-f', 'raw', raw, '16M');
    await driveNew(`file=${raw},format=raw,if=none,id=hd0`);
    const node = blkByName('hd0')!.root!.nodeName;
    let checked = 0;
    for (const { cmd, reply } of transcript('neg-raw.transcript.txt')) {
      if (cmd['execute'] === 'human-monitor-command') {
        expect(await hmp(cmd['arguments']['command-line'])).toBe(reply['return']);
        checked++;
      } else if (cmd['execute'] === 'snapshot-save') {
        const a = cmd['arguments'];
        const refNode = a['vmstate'] as string;
        const swap = (n: string) => (n === refNode ? node : n);
        const want = transcript('neg-raw.transcript.txt').find((t) => t.cmd['execute'] === 'query-jobs')!
          .reply['return'][0];
        const r = await job(() =>
          qmpSnapshotSave({
            'job-id': a['job-id'],
            tag: a['tag'],
            vmstate: swap(a['vmstate']),
            devices: a['devices'].map(swap),
          }),
        );
        expect(r.error).toBe(want['error']);
        checked++;
      }
    }
    expect(checked).toBe(3);
  });

  it('neg-nodisk: no disk and no -snapshot-store answers as QEMU', async () => {
    await blockdevCloseAll();
    let checked = 0;
    for (const { cmd, reply } of transcript('neg-nodisk.transcript.txt')) {
      if (cmd['execute'] === 'human-monitor-command') {
        expect(await hmp(cmd['arguments']['command-line'])).toBe(reply['return']);
        checked++;
      } else if (cmd['execute'] === 'snapshot-save') {
        const want = transcript('neg-nodisk.transcript.txt').find((t) => t.cmd['execute'] === 'query-jobs')!
          .reply['return'][0];
        expect((await job(() => qmpSnapshotSave(cmd['arguments']))).error).toBe(want['error']);
        checked++;
      }
    }
    expect(checked).toBe(3);
  });

  it('without disks, -snapshot-store keeps savevm working (our extension)', async () => {
    await blockdevCloseAll();
    setSnapshotStoreDir(join(dir, 'store'));
    dev.doorbell = 8;
    expect(await hmp('savevm s1')).toBe('');
    dev.doorbell = 9;
    expect(await hmp('loadvm s1')).toBe('');
    expect(dev.doorbell).toBe(8);
    expect(await hmp('info snapshots')).toMatch(
      /^List of snapshots present on all disks:\r\n.*\r\n-- {8}s1 /,
    );
  });
});

describe('HMP qemu-io', () => {
  it("qemu-io's texts", async () => {
    expect(await hmp('qemu-io nosuch "read 0 4k"')).toBe(
      "Error: Cannot find device='' nor node-name='nosuch'\r\n",
    );
    expect(await hmp('qemu-io hd0 "bogus"')).toBe('command "bogus" not found\r\n');
    expect(await hmp('qemu-io hd0 "write 0 100M"')).toBe('write failed: Input/output error\r\n');
    const w = await hmp('qemu-io hd0 "write -P 0x61 512 4k"');
    expect(w).toMatch(
      /^wrote 4096\/4096 bytes at offset 512\r\n4 KiB, 1 ops; \d\d\.\d\d sec \([\d.]+ [KMG]?i?B(ytes)?\/sec and [\d.]+ ops\/sec\)\r\n$/,
    );
    expect(await hmp('qemu-io hd0 "read -v 510 18"')).toMatch(
      /^000001fe: {2}00 00 61 61 61 61 61 61 61 61 61 61 61 61 61 61 {2}\.\.aaaaaaaaaaaaaa\r\n0000020e: {2}61 61 {2}aa\r\nread 18\/18 bytes at offset 510\r\n18 bytes, 1 ops; /,
    );
    expect(await hmp('qemu-io hd0 "read -P 0x61 -q 512 4k"')).toBe('');
    expect(await hmp('qemu-io hd0 "read 0"')).toBe(
      'bad argument count 1 to read, expected at least 2 arguments\r\n',
    );
    expect(await hmp('qemu-io hd0 "read x 4k"')).toBe(
      'Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- x\r\n',
    );
    expect(await hmp('qemu-io hd0 "read -P 0x61 0 4k"')).toMatch(
      /^Pattern verification failed at offset 0, 4096 bytes\r\nread 4096/,
    );
  });
});
