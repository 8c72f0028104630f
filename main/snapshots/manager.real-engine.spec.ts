/**
 * Snapshots through the service against the real engine (dist/, `npm run build`) on machine `none`
 * with the test bridge and a test device, whose `doorbell` register is part of the machine state:
 * take, change, revert (keeping the current state first), delete, rename, a refused revert that
 * leaves the library as it was, and reconciliation with the snapshot store.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiEventMap, SnapshotProgress, VmSummary } from '../api/contract.js';
import type { VmService } from '../api/service.js';
import type { Library } from '../library/library.js';
import { ENGINE_BUILT, realEngineService } from '../supervisor/testing/real-engine-service.js';
import { readSnapshotStore, snapshotFileName, snapshotStoreDir } from './store-files.js';

describe.skipIf(!ENGINE_BUILT)('snapshots with the real engine', () => {
  let dir: string;
  let lib: Library;
  let svc: VmService;
  const progress: SnapshotProgress[] = [];

  const open = (): VmService => {
    const r = realEngineService(dir);
    lib = r.lib;
    r.svc.subscribe(<E extends keyof ApiEventMap>(e: E, p: ApiEventMap[E]) => {
      if (e === 'snapshot-progress') progress.push(p as SnapshotProgress);
    });
    return r.svc;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-snap-'));
    progress.length = 0;
    svc = open();
  });
  afterEach(async () => {
    await svc.shutdown();
    lib.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = <T>(method: string, ...params: unknown[]): Promise<T> =>
    svc.dispatch(method as never, params) as Promise<T>;
  const DEV = '/machine/peripheral/dev0';
  const doorbell = (vmId: string) =>
    svc.supervisor.qmp(vmId, 'qom-get').qomGet({ path: DEV, property: 'doorbell' }) as Promise<unknown>;
  const ring = (vmId: string, v: number) => call('qom.set', vmId, DEV, 'doorbell', v);

  async function labVm(): Promise<VmSummary> {
    const vm = await call<VmSummary>('vms.create', {
      name: 'lab',
      guest: null,
      machine: 'none',
      cpus: 1,
      memoryMiB: 64,
      devices: ['vmstudio-test-bridge,id=br0,unplug-delay-ms=50', 'vmstudio-test-device,id=dev0,bus=br0.0'],
    });
    await call('vms.start', vm.id);
    return vm;
  }

  it('takes, reverts (keeping the current state), deletes and renames; state comes back exactly', async () => {
    const vm = await labVm();
    await ring(vm.id, 1);
    const a = await call<{ id: string; tag: string; sizeBytes: number; recorded: boolean }>(
      'snapshots.take',
      vm.id,
      { name: 'A' },
    );
    expect(a).toMatchObject({ recorded: true });
    expect(a.sizeBytes).toBe(
      fs.statSync(path.join(snapshotStoreDir(svc.vmFolder(vm.id)), snapshotFileName(a.tag))).size,
    );
    expect(progress.map((p) => p.status)).toEqual([
      'created',
      'created',
      'running',
      'waiting',
      'pending',
      'concluded',
      'done',
    ]);

    await ring(vm.id, 2);
    const plan = await call<{
      config: unknown[];
      devices: unknown[];
      problems: unknown[];
      autoSnapshotName: string;
    }>('snapshots.planRevert', vm.id, a.id);
    expect(plan).toMatchObject({
      config: [],
      devices: [],
      problems: [],
      autoSnapshotName: 'Before revert to A',
    });

    progress.length = 0;
    const r = await call<{ autoSnapshot: { id: string; name: string; auto: boolean; parentId: string } }>(
      'snapshots.revert',
      vm.id,
      a.id,
      { autoSnapshot: true },
    );
    expect(await doorbell(vm.id)).toBe(1);
    expect(r.autoSnapshot).toMatchObject({ name: 'Before revert to A', auto: true, parentId: a.id });
    expect(progress.at(-1)).toMatchObject({
      operation: 'revert',
      step: 2,
      steps: 2,
      status: 'done',
      fraction: 1,
    });
    let overview = await call<{ currentId: string; snapshots: { name: string }[] }>(
      'snapshots.overview',
      vm.id,
    );
    expect(overview.currentId).toBe(a.id);
    expect(overview.snapshots.map((s) => s.name)).toEqual(['A', 'Before revert to A']);

    // Deleting A leaves the automatic snapshot's data alone: reverting to it brings back 2.
    await call('snapshots.delete', vm.id, a.id);
    const auto = r.autoSnapshot;
    expect(lib.getSnapshot(auto.id).parentId).toBeNull();
    await call('snapshots.revert', vm.id, auto.id, { autoSnapshot: false });
    expect(await doorbell(vm.id)).toBe(2);
    overview = await call('snapshots.overview', vm.id);
    expect(overview.snapshots.map((s) => s.name)).toEqual(['Before revert to A']);

    const renamed = await call<{ name: string; tag: string }>(
      'snapshots.rename',
      vm.id,
      auto.id,
      'doorbell two',
    );
    expect(renamed.name).toBe('doorbell two');
    const info = await svc.supervisor
      .qmp(vm.id, 'hmp')
      .humanMonitorCommand({ 'command-line': 'info snapshots' });
    expect(info).toContain(renamed.tag);
    expect(info).not.toContain('doorbell two');
  }, 60_000);

  it('reports a refused revert with the reason and leaves the library and the machine as they were', async () => {
    const vm = await labVm();
    await ring(vm.id, 7);
    const a = await call<{ id: string }>('snapshots.take', vm.id, { name: 'with dev0' });
    await svc.supervisor.qmp(vm.id, 'device_del').deviceDel({ id: 'dev0' });
    for (
      let i = 0;
      i < 50 &&
      (
        (await svc.supervisor.execute(vm.id, 'qom-list', { path: '/machine/peripheral' })) as {
          name: string;
        }[]
      ).some((p) => p.name === 'dev0');
      i++
    )
      await new Promise((res) => setTimeout(res, 50));
    const plan = await call<{ problems: string[] }>('snapshots.planRevert', vm.id, a.id);
    expect(plan.problems[0]).toContain("holds the state of 'dev0' (vmstudio-test-device)");
    const before = lib.listSnapshots(vm.id);
    await expect(call('snapshots.revert', vm.id, a.id, { autoSnapshot: false })).rejects.toThrow(
      /^Could not revert to 'with dev0': Error -22 while loading VM state\. The VM was left as it was\. Likely cause: /,
    );
    expect(lib.listSnapshots(vm.id)).toEqual(before);
    expect(lib.currentSnapshot(vm.id)).toBe(a.id);
    expect((await call<VmSummary>('vms.get', vm.id)).state).toBe('running');
  }, 60_000);

  it('guards disks and snapshots both ways: a disk added later blocks the revert, one holding it stays', async () => {
    const vm = await call<VmSummary>('vms.create', {
      name: 'disky',
      guest: null,
      machine: 'none',
      cpus: 1,
      memoryMiB: 64,
      disks: [{ sizeMiB: 1, format: 'qcow2' }],
    });
    await call('vms.start', vm.id);
    const a = await call<{ id: string }>('snapshots.take', vm.id, { name: 'one disk' });
    await call('vms.stop', vm.id, true);
    await expect(call('disks.remove', vm.id, 0)).rejects.toThrow(
      "Disk 0 ('disk0.qcow2') holds the snapshot 'one disk'",
    );
    await call('disks.add', vm.id, { sizeMiB: 1, format: 'qcow2' });
    await call('vms.start', vm.id);

    const plan = await call<{ problems: string[] }>('snapshots.planRevert', vm.id, a.id);
    expect(plan.problems).toEqual([
      expect.stringMatching(/^Disk 1 \('disk1\.qcow2'\) has no copy of 'one disk'/),
    ]);
    // The engine agrees: it refuses the load, and nothing changes.
    const before = lib.listSnapshots(vm.id);
    await expect(call('snapshots.revert', vm.id, a.id, { autoSnapshot: false })).rejects.toThrow(
      /does not exist in one or more devices/,
    );
    expect(lib.listSnapshots(vm.id)).toEqual(before);

    // Without the late disk (it holds no snapshot, so it may go) the revert works.
    await call('vms.stop', vm.id, true);
    await call('disks.remove', vm.id, 1, { deleteFile: true });
    await call('vms.start', vm.id);
    expect((await call<{ problems: string[] }>('snapshots.planRevert', vm.id, a.id)).problems).toEqual([]);
    await call('snapshots.revert', vm.id, a.id, { autoSnapshot: false });
  }, 60_000);

  it('refuses what cannot be done now with the exact reason', async () => {
    const vm = await call<VmSummary>('vms.create', {
      name: 'idle',
      guest: null,
      machine: 'none',
      cpus: 1,
      memoryMiB: 64,
    });
    await expect(call('snapshots.take', vm.id, { name: 'x' })).rejects.toThrow(
      "'idle' is stopped: start it to take a snapshot",
    );
    const o = await call<{ take: { reason: string }; revert: { reason: string } }>(
      'snapshots.overview',
      vm.id,
    );
    expect(o.take.reason).toBe("'idle' is stopped: start it to take a snapshot");
    expect(o.revert.reason).toBe("'idle' is stopped: start it to revert to a snapshot");
    await call('vms.start', vm.id);
    await expect(call('snapshots.take', vm.id, { name: '  ' })).rejects.toThrow('The snapshot needs a name');
    await expect(call('snapshots.take', vm.id, { name: 'd', kind: 'disk-only' })).rejects.toThrow(
      "'idle' has no disks: a disk-only snapshot needs a qcow2 disk",
    );
    await call('snapshots.take', vm.id, { name: 'x' });
    await expect(call('snapshots.take', vm.id, { name: 'x' })).rejects.toThrow(
      "A snapshot named 'x' already exists",
    );
  }, 60_000);

  it('reconciles with the engine: snapshots taken elsewhere are adopted, vanished ones dropped', async () => {
    const vm = await labVm();
    const kept = await call<{ id: string; tag: string }>('snapshots.take', vm.id, { name: 'kept' });
    const lost = await call<{ id: string; tag: string }>('snapshots.take', vm.id, { name: 'lost' });
    await svc.supervisor.qmp(vm.id, 'hmp').humanMonitorCommand({ 'command-line': 'savevm by-hand' });
    await svc.supervisor.qmp(vm.id, 'hmp').humanMonitorCommand({ 'command-line': `delvm ${lost.tag}` });
    let names = (
      await call<{ snapshots: { name: string; recorded: boolean }[] }>('snapshots.overview', vm.id)
    ).snapshots;
    // (info snapshots dates have second resolution, so the adopted one may sort first)
    expect(names.map((s) => [s.name, s.recorded]).sort()).toEqual([
      ['by-hand', false],
      ['kept', true],
    ]);

    // Stopped: the store's files are the truth. The app restarts and finds the same snapshots.
    await call('vms.stop', vm.id, true);
    fs.rmSync(path.join(snapshotStoreDir(svc.vmFolder(vm.id)), snapshotFileName('by-hand')));
    await svc.shutdown();
    lib.close();
    svc = open();
    svc.reconcileSnapshots();
    await new Promise((res) => setTimeout(res, 100));
    names = (await call<{ snapshots: { name: string; recorded: boolean }[] }>('snapshots.overview', vm.id))
      .snapshots;
    expect(names.map((s) => s.name)).toEqual(['kept']);
    expect(readSnapshotStore(snapshotStoreDir(svc.vmFolder(vm.id))).map((s) => s.tag)).toEqual([kept.tag]);

    // Deleting while stopped removes exactly that snapshot's file.
    await call('snapshots.delete', vm.id, kept.id);
    expect(readSnapshotStore(snapshotStoreDir(svc.vmFolder(vm.id)))).toEqual([]);
  }, 60_000);
});
