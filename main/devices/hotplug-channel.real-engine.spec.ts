/**
 * Hot-plugging a device with a new host channel through the service against the real engine (dist/):
 * a virt machine (firmware: a one-instruction loop, no guest needed) with a virtio-serial bus gets a
 * virtserialport whose `chardev` is a new Unix socket in the VM's folder. Host programs can connect
 * to it; a kept port keeps its channel (same socket) after a restart; a failed add leaves nothing.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceAddResult, DevicePropertySpec, VmSummary } from '../api/contract.js';
import { ENGINE_BUILT, useRealEngineService } from '../supervisor/testing/real-engine-service.js';

interface ChardevInfo {
  label: string;
  filename: string;
}

/** Connects to a Unix socket and closes again; rejects when nothing listens there. */
function connectOnce(socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket, () => {
      c.end();
      resolve();
    });
    c.once('error', reject);
  });
}

describe.skipIf(!ENGINE_BUILT)('hot-plugging a device with a new host channel (real engine)', () => {
  const t = useRealEngineService('hotchan');
  const call = t.call;
  const chardevs = async (vmId: string) =>
    ((await t.svc.supervisor.execute(vmId, 'query-chardev')) as ChardevInfo[]).map((c) => c.label);
  const serialVm = () => t.startLoopVm('serial-lab', ['virtio-serial-device,id=vser0']);

  it('gives a virtserialport a new socket, and a kept port its channel again after a restart', async () => {
    const vm = await serialVm();
    const specs = await call<DevicePropertySpec[]>('devices.properties', vm.id, 'virtserialport');
    // The console's serial0 and the QMP monitor's chardev are in use: not offered.
    expect(await chardevs(vm.id)).toContain('serial0');
    expect(specs.find((s) => s.name === 'chardev')).toMatchObject({
      kind: 'backend',
      backend: 'chardev',
      backendCandidates: [],
    });

    const r = await call<DeviceAddResult>('devices.add', vm.id, {
      driver: 'virtserialport',
      id: 'port0',
      properties: { name: 'org.example.agent' },
      keep: true,
      newChardev: { property: 'chardev' },
    });
    const socket = path.join(t.svc.vmFolder(vm.id), 'channel0.sock');
    expect(r.channelSocket).toBe(socket);
    expect(r.kept).toBe('virtserialport,id=port0,name=org.example.agent,chardev=channel0');
    const saved = t.lib.getVm(vm.id);
    expect(saved.devices).toEqual(['virtio-serial-device,id=vser0', r.kept]);
    expect(saved.chardevs).toEqual([`socket,id=channel0,path=${socket},server=on,wait=off`]);
    expect(await chardevs(vm.id)).toContain('channel0');
    await connectOnce(socket);
    // Kept: already what the engine runs, so nothing is pending a restart.
    const summary = (await call<VmSummary[]>('vms.list')).find((v) => v.id === vm.id)!;
    expect(summary.pendingRestart).toEqual([]);

    await call('vms.stop', vm.id, true);
    await call('vms.start', vm.id);
    expect(await chardevs(vm.id)).toContain('channel0');
    const ports = (await t.svc.supervisor.execute(vm.id, 'qom-list', { path: '/machine/peripheral' })) as {
      name: string;
    }[];
    expect(ports.map((p) => p.name)).toContain('port0');
    await connectOnce(socket);
  }, 60_000);

  it('takes the next free channel id, and a failed add removes its channel and socket', async () => {
    const vm = await serialVm();
    await call('devices.add', vm.id, {
      driver: 'virtserialport',
      properties: {},
      keep: false,
      newChardev: { property: 'chardev' },
    });
    // Not kept: live only, the configuration is unchanged.
    expect(t.lib.getVm(vm.id).chardevs).toEqual([]);
    expect(await chardevs(vm.id)).toContain('channel0');

    await expect(
      call('devices.add', vm.id, {
        driver: 'virtserialport',
        id: 'bad',
        bus: 'nope.0',
        properties: {},
        keep: true,
        newChardev: { property: 'chardev' },
      }),
    ).rejects.toThrow("Bus 'nope.0' not found");
    expect(await chardevs(vm.id)).not.toContain('channel1');
    expect(fs.existsSync(path.join(t.svc.vmFolder(vm.id), 'channel1.sock'))).toBe(false);
    expect(t.lib.getVm(vm.id).chardevs).toEqual([]);

    await expect(
      call('devices.add', vm.id, {
        driver: 'virtserialport',
        properties: { chardev: 'channel0' },
        keep: false,
        newChardev: { property: 'chardev' },
      }),
    ).rejects.toThrow("Property 'chardev' is given twice (a value and a new host channel)");
  }, 60_000);
});
