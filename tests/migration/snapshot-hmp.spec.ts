/**
 * HMP savevm / loadvm / delvm / info snapshots (through human-monitor-command's handler) on the
 * `none` machine with a test device, and the QMP snapshot jobs with their JOB_STATUS_CHANGE events.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
import { qmpSnapshotLoad, qmpSnapshotSave, sizeToStr } from '../../engine/migration/snapshot.js';
import {
  jobsResetForTests,
  qmpJobDismiss,
  qmpQueryJobs,
  setJobEventSink,
} from '../../engine/migration/job.js';
import { virtualClock, virtualClockFollowRunState } from '../../engine/system/virtual-clock.js';
import { until } from '../helpers/until.js';

let dir: string;
let dev: TestDevice;
let events: string[];

const hmp = (line: string) => qmpHumanMonitorCommand(line);

beforeEach(() => {
  qomResetRoot();
  runstateResetForTests();
  virtualClock.reset();
  virtualClockFollowRunState();
  jobsResetForTests();
  events = [];
  setRunStateEventHook((e) => events.push(e));
  setJobEventSink((e, d) => events.push(`${e} ${String(d['id'])} ${String(d['status'])}`));
  dir = mkdtempSync(join(tmpdir(), 'vmstudio-snap-'));
  setSnapshotStoreDir(dir);
  const m = machineCreate('none');
  testBridgeCreate();
  machineRunBoardInit(m);
  dev = qdevDeviceAdd(qdict({ driver: 'vmstudio-test-device', id: 't0' })) as TestDevice;
});

afterEach(() => {
  setJobEventSink(null);
  rmSync(dir, { recursive: true, force: true });
});

describe('HMP snapshots', () => {
  it('info snapshots is empty at first', async () => {
    expect(await hmp('info snapshots')).toBe('There is no snapshot available.\r\n');
  });

  it('savevm, change, loadvm restores; savevm of a running VM stops and resumes it', async () => {
    vmStart();
    events.length = 0;
    dev.doorbell = 11;
    expect(await hmp('savevm s1')).toBe('');
    expect(events).toEqual(['STOP', 'RESUME']);
    expect(runstateGet()).toBe('running');
    dev.doorbell = 22;
    expect(await hmp('loadvm s1')).toBe('');
    expect(dev.doorbell).toBe(11);
    expect(runstateGet()).toBe('running');
  });

  it('info snapshots in QEMU layout; savevm of an existing tag replaces it; delvm removes it', async () => {
    await hmp('savevm s1');
    await hmp('savevm s2');
    await hmp('savevm s1');
    const out = await hmp('info snapshots');
    const lines = out.split('\r\n');
    expect(lines[0]).toBe('List of snapshots present on all disks:');
    expect(lines[1]).toBe('ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT');
    const row = lines[2]!;
    expect(row.slice(0, 27)).toBe('--        s2               ');
    expect(row.slice(27, 35)).toMatch(/^ *[\d.]+ [KMG]?i?B$/);
    expect(row.slice(35, 55)).toMatch(/^ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(row.slice(55)).toBe(' 00:00:00.000' + ' '.repeat(11));
    expect(lines[3]).toMatch(/^-- {8}s1 /);
    expect(lines.length).toBe(5);
    expect(await hmp('delvm s2')).toBe('');
    expect((await hmp('info snapshots')).split('\r\n').length).toBe(4);
    expect(await hmp('delvm nosuch')).toBe('');
    // atomic writes leave no temporary files behind
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('errors as QEMU prints them', async () => {
    expect(await hmp('loadvm nosuch')).toBe(
      "Error: Snapshot 'nosuch' does not exist in one or more devices\r\n",
    );
    expect(await hmp('loadvm')).toBe('loadvm: string expected\r\nTry "help loadvm" for more information\r\n');
    expect(await hmp('delvm')).toBe('delvm: string expected\r\nTry "help delvm" for more information\r\n');
  });

  it('a snapshot that no longer fits the machine is refused with QEMU texts and changes nothing', async () => {
    const t1 = qdevDeviceAdd(qdict({ driver: 'vmstudio-test-device', id: 't1' })) as TestDevice;
    await hmp('savevm s1');
    dev.doorbell = 5;
    objectUnparent(t1);
    const out = await hmp('loadvm s1');
    expect(out).toBe(
      "Unknown savevm section or instance 'vmstudio-test-device' 1. Make sure that your current VM setup matches your saved VM setup, including any hotplugged devices\r\n" +
        'Error: Error -22 while loading VM state\r\n',
    );
    expect(dev.doorbell).toBe(5);
  });

  it('default name is vm-YYYYMMDDHHMMSS', async () => {
    await hmp('savevm');
    expect(await hmp('info snapshots')).toMatch(/-- {8}vm-\d{14} /);
  });
});

describe('snapshot jobs', () => {
  it('snapshot-save / snapshot-load run as jobs with QEMU status changes', async () => {
    dev.doorbell = 3;
    qmpSnapshotSave({ 'job-id': 'save0', tag: 'j1', vmstate: 'x', devices: [] });
    expect(events).toEqual(['JOB_STATUS_CHANGE save0 created', 'JOB_STATUS_CHANGE save0 running']);
    await until(() => events.includes('JOB_STATUS_CHANGE save0 concluded'));
    expect(events.slice(2)).toEqual([
      'JOB_STATUS_CHANGE save0 waiting',
      'JOB_STATUS_CHANGE save0 pending',
      'JOB_STATUS_CHANGE save0 concluded',
    ]);
    expect(qmpQueryJobs()).toEqual([
      { id: 'save0', type: 'snapshot-save', status: 'concluded', 'current-progress': 1, 'total-progress': 1 },
    ]);
    qmpJobDismiss({ id: 'save0' });
    expect(events.at(-1)).toBe('JOB_STATUS_CHANGE save0 null');
    dev.doorbell = 4;
    events.length = 0;
    qmpSnapshotLoad({ 'job-id': 'load-bad', tag: 'nope', vmstate: 'x', devices: [] });
    await until(() => events.includes('JOB_STATUS_CHANGE load-bad concluded'));
    expect(events.slice(2)).toEqual([
      'JOB_STATUS_CHANGE load-bad aborting',
      'JOB_STATUS_CHANGE load-bad concluded',
    ]);
    expect(qmpQueryJobs()[0]!.error).toBe("Snapshot 'nope' does not exist in one or more devices");
    qmpSnapshotLoad({ 'job-id': 'load0', tag: 'j1', vmstate: 'x', devices: [] });
    await until(() => events.includes('JOB_STATUS_CHANGE load0 concluded'));
    expect(dev.doorbell).toBe(3);
    expect(() => qmpSnapshotSave({ 'job-id': 'load0', tag: 'x', vmstate: 'x', devices: [] })).toThrow(
      "Job ID 'load0' already in use",
    );
  });
});

describe('size_to_str', () => {
  it('formats like QEMU', () => {
    expect(sizeToStr(322 * 1024 + 100)).toBe('322 KiB');
    expect(sizeToStr(40.7 * 1024 * 1024)).toBe('40.7 MiB');
    expect(sizeToStr(512)).toBe('512 B');
    expect(sizeToStr(1000)).toBe('0.977 KiB');
  });
});
