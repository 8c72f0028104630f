import { describe, expect, it } from 'vitest';
import type { DeviceRecord, Snapshot, Vm } from '../api/contract.js';
import type { SnapshotRecord } from '../library/library.js';
import { emptyMachineVm } from '../supervisor/testing/empty-machine-vm.js';
import { autoSnapshotName, planRevert } from './revert-plan.js';

const snapshot: Snapshot = {
  id: 's1',
  vmId: 'vm',
  name: 'clean install',
  parentId: null,
  createdAt: 1,
  sizeBytes: 10,
  kind: 'vmstate',
  tag: 'vs-1',
  auto: false,
  recorded: true,
};

function vm(over: Partial<Vm> = {}): Vm {
  return emptyMachineVm('vm', {
    name: 'lab',
    devices: ['vmstudio-test-bridge,id=br0', 'vmstudio-test-device,id=dev0,bus=br0.0'],
    notes: 'my notes',
    ...over,
  });
}

const br0: DeviceRecord = { id: 'br0', type: 'vmstudio-test-bridge', path: '/machine/peripheral/br0' };
const dev0: DeviceRecord = { id: 'dev0', type: 'vmstudio-test-device', path: '/machine/peripheral/dev0' };

function record(over: Partial<Vm> = {}, devices: DeviceRecord[] = [br0, dev0]): SnapshotRecord {
  const { id: _i, createdAt: _c, updatedAt: _u, ...config } = vm(over);
  return { config, devices };
}

describe('planRevert', () => {
  it('reports nothing to change when configuration and devices are as recorded', () => {
    const p = planRevert({
      snapshot,
      record: record(),
      current: vm(),
      running: vm(),
      liveDevices: [br0, dev0],
      existingNames: ['clean install'],
    });
    expect(p).toMatchObject({ config: [], devices: [], problems: [], notes: [], patch: null });
    expect(p.autoSnapshotName).toBe('Before revert to clean install');
  });

  it('restores saved boot fields (not name or notes) and lists them as now → then', () => {
    const p = planRevert({
      snapshot,
      record: record({ append: 'console=ttyS0', devices: ['vmstudio-test-bridge,id=br0'] }),
      current: vm({ cpus: 2, append: null, notes: 'other', name: 'renamed' }),
      running: vm({ append: 'console=ttyS0' }),
      liveDevices: [br0],
      existingNames: [],
    });
    expect(p.config).toEqual([
      { field: 'cpus', now: '2', snapshot: '1' },
      { field: 'append', now: '(none)', snapshot: 'console=ttyS0' },
      {
        field: 'devices',
        now: 'vmstudio-test-bridge,id=br0; vmstudio-test-device,id=dev0,bus=br0.0',
        snapshot: 'vmstudio-test-bridge,id=br0',
      },
    ]);
    expect(p.patch).toEqual({ cpus: 1, append: 'console=ttyS0', devices: ['vmstudio-test-bridge,id=br0'] });
  });

  it('restores the host channels recorded with the snapshot (none for records from before they existed)', () => {
    const withChannel = record({ chardevs: ['socket,id=channel0,path=/v/c.sock,server=on,wait=off'] });
    const p = planRevert({
      snapshot,
      record: withChannel,
      current: vm(),
      running: vm(),
      liveDevices: [br0, dev0],
      existingNames: [],
    });
    expect(p.config).toEqual([
      { field: 'chardevs', now: '(none)', snapshot: 'socket,id=channel0,path=/v/c.sock,server=on,wait=off' },
    ]);
    expect(p.patch).toEqual({ chardevs: ['socket,id=channel0,path=/v/c.sock,server=on,wait=off'] });
  });

  it('says a device plugged in since stays, and that a missing one makes the engine refuse', () => {
    const dev1: DeviceRecord = { id: 'dev1', type: 'vmstudio-test-device', path: '/machine/peripheral/dev1' };
    const p = planRevert({
      snapshot,
      record: record(),
      current: vm(),
      running: vm(),
      liveDevices: [br0, dev1],
      existingNames: [],
    });
    expect(p.devices.map((d) => [d.id, d.change])).toEqual([
      ['dev0', 'removed'],
      ['dev1', 'added'],
    ]);
    expect(p.devices[1]!.message).toBe(
      "'dev1' (vmstudio-test-device) was plugged in after 'clean install': it stays, reset to its power-on state",
    );
    expect(p.problems).toEqual([
      "'clean install' holds the state of 'dev0' (vmstudio-test-device), which is not in the machine now: the engine will refuse the revert. Add it back (same id and type) first.",
    ]);
  });

  it('flags a machine started with other CPUs or memory than the snapshot', () => {
    const p = planRevert({
      snapshot,
      record: record(),
      current: vm({ cpus: 2 }),
      running: vm({ cpus: 2, memoryMiB: 128 }),
      liveDevices: [br0, dev0],
      existingNames: [],
    });
    expect(p.problems).toHaveLength(2);
    expect(p.problems[0]).toContain("The machine runs with 2 CPUs; 'clean install' was taken with 1 CPU");
    expect(p.problems[1]).toContain('128 MiB');
  });

  it('says qcow2 disks go back with the memory, and names the raw ones that do not', () => {
    const disk = (file: string, format: string) => ({ file, format, interface: 'virtio', readonly: false });
    const p = planRevert({
      snapshot,
      record: record(),
      current: vm({
        disks: [disk('/v/disk0.qcow2', 'qcow2'), disk('/v/a.img', 'raw'), disk('/v/b.img', 'raw')],
      }),
      running: vm(),
      liveDevices: [br0, dev0],
      existingNames: [],
    });
    expect(p.notes).toEqual([
      "'a.img', 'b.img' are raw images: disk contents there are not part of the snapshot, they keep their current contents.",
      "The qcow2 disk goes back to 'clean install' too.",
    ]);
  });

  it('flags a writable qcow2 disk attached after the snapshot (the engine refuses a load missing a disk)', () => {
    const disk = (file: string, format: string, readonly = false) => ({
      file,
      format,
      interface: 'virtio',
      readonly,
    });
    const p = planRevert({
      snapshot,
      record: record(),
      current: vm({
        disks: [
          disk('/v/disk0.qcow2', 'qcow2'),
          disk('/v/disk1.qcow2', 'qcow2'),
          disk('/v/ro.qcow2', 'qcow2', true),
          disk('/v/unread.qcow2', 'qcow2'),
        ],
      }),
      running: vm(),
      liveDevices: [br0, dev0],
      existingNames: [],
      diskSnapshots: new Map([
        ['/v/disk0.qcow2', ['vs-0', 'vs-1']],
        ['/v/disk1.qcow2', ['vs-0']],
        ['/v/ro.qcow2', []],
        ['/v/unread.qcow2', null],
      ]),
    });
    expect(p.problems).toEqual([
      "Disk 1 ('disk1.qcow2') has no copy of 'clean install': it was attached after the snapshot was taken, and the engine refuses a revert that misses a disk. Stop the VM and remove that disk (Configuration, Disks) to revert.",
    ]);
  });

  it('restores only the machine state of a snapshot taken outside VM Studio, and mentions raw disks', () => {
    const p = planRevert({
      snapshot: { ...snapshot, recorded: false },
      record: null,
      current: vm({ disks: [{ file: '/d.img', format: 'raw', interface: 'virtio', readonly: false }] }),
      running: vm(),
      liveDevices: [br0],
      existingNames: [],
    });
    expect(p.config).toEqual([]);
    expect(p.devices).toEqual([]);
    expect(p.notes).toHaveLength(2);
    expect(p.notes[0]).toContain('was not taken by VM Studio');
    expect(p.notes[1]).toBe(
      "'d.img' is a raw image: disk contents there are not part of the snapshot, it keeps its current contents.",
    );
  });

  it('does not compare devices when the machine is not running', () => {
    const p = planRevert({
      snapshot,
      record: record(),
      current: vm(),
      running: null,
      liveDevices: null,
      existingNames: [],
    });
    expect(p.devices).toEqual([]);
    expect(p.problems).toEqual([]);
  });
});

describe('autoSnapshotName', () => {
  it('numbers repeats', () => {
    expect(autoSnapshotName('A', [])).toBe('Before revert to A');
    expect(autoSnapshotName('A', ['Before revert to A', 'Before revert to A (2)'])).toBe(
      'Before revert to A (3)',
    );
  });
});
