import { describe, expect, it, vi } from 'vitest';
import type { DeviceRemovalEvent, Vm, VmState } from '../api/contract.js';
import { HotplugManager } from './hotplug.js';
import { deviceOptionString, optionStringId, splitOptions } from './option-string.js';
import { describeDeviceProperties, propertyKind } from './properties.js';
import { testBridgeMachine } from './testing/fake-machine.js';

function setup(timeoutMs = 1000) {
  const m = testBridgeMachine();
  const qmp = m.client();
  const vm = { id: 'vm1', name: 'lab', devices: ['vmstudio-test-bridge,id=br0'] } as Vm;
  let running = [...vm.devices];
  const power: { state: VmState } = { state: 'running' };
  const removals: DeviceRemovalEvent[] = [];
  const added: string[] = [];
  const hp = new HotplugManager(
    {
      qmp: () => qmp,
      state: () => power.state,
      getVm: () => vm,
      saveDevices: (_id, d) => (vm.devices = d.devices),
      amendRunning: (_id, d) => (running = d.devices),
      removal: (e) => removals.push(e),
      added: (_v, _id, p) => added.push(p),
      makeDiskImage: () => Promise.reject(new Error('no disk images in this test')),
      saveDisks: () => undefined,
      vmFolder: () => '/nonexistent',
    },
    timeoutMs,
  );
  m.events.push((event, data) =>
    hp.onQmpEvent('vm1', { event, data, timestamp: { seconds: 0, microseconds: 0 } }),
  );
  return { m, vm, hp, removals, added, power, running: () => running };
}

describe('hotplug', () => {
  it('says which device and which VM state when the VM is not running, and sends nothing', async () => {
    const { m, hp, power, removals } = setup();
    const add = { driver: 'vmstudio-test-device', id: 't1', properties: {}, keep: false };
    power.state = 'stopped';
    await expect(hp.add('vm1', add)).rejects.toThrow(
      "Cannot add 't1' (vmstudio-test-device): VM 'lab' is stopped; start it to hot-plug devices, or add the device to its configuration for the next boot",
    );
    await expect(hp.add('vm1', { ...add, id: undefined })).rejects.toThrow(
      "Cannot add vmstudio-test-device: VM 'lab' is stopped;",
    );
    await expect(hp.remove('vm1', 'br0')).rejects.toThrow(
      "Cannot remove 'br0' (vmstudio-test-bridge): VM 'lab' is stopped; start it to unplug devices, or remove the device from its configuration for the next boot",
    );
    await expect(hp.remove('vm1', '/machine/peripheral-anon/device[0]')).rejects.toThrow(
      "Cannot remove /machine/peripheral-anon/device[0]: VM 'lab' is stopped;",
    );
    power.state = 'crashed';
    await expect(hp.remove('vm1', 'x9')).rejects.toThrow(
      "Cannot remove 'x9': VM 'lab' is crashed (stopped);",
    );
    power.state = 'starting';
    await expect(hp.add('vm1', add)).rejects.toThrow(
      "Cannot add 't1' (vmstudio-test-device): VM 'lab' is starting; wait until it runs",
    );
    power.state = 'stopping';
    await expect(hp.remove('vm1', 'br0')).rejects.toThrow(
      "Cannot remove 'br0' (vmstudio-test-bridge): VM 'lab' is stopping; it is shutting down",
    );
    expect(m.resolve('/machine/peripheral/t1')).toBeFalsy();
    expect(removals).toEqual([]);
    // Paused is live: QEMU hot-plugs into a paused machine.
    power.state = 'paused';
    await expect(hp.add('vm1', add)).resolves.toMatchObject({ id: 't1' });
  });

  it('adds a device, keeping it in the configuration only when asked', async () => {
    const { m, vm, hp, added, running } = setup();
    const r = await hp.add('vm1', {
      driver: 'vmstudio-test-device',
      id: 't1',
      properties: { u8: '7' },
      keep: false,
    });
    expect(r).toEqual({ id: 't1', path: '/machine/peripheral/t1', kept: null });
    expect(m.resolve('/machine/peripheral/t1')!.props.u8).toBe('7');
    expect(vm.devices).toEqual(['vmstudio-test-bridge,id=br0']);

    const k = await hp.add('vm1', {
      driver: 'vmstudio-test-device',
      id: 't2',
      properties: { serial: 'a,b', flag: true },
      keep: true,
    });
    expect(k.kept).toBe('vmstudio-test-device,id=t2,serial=a,,b,flag=on');
    expect(vm.devices).toEqual(['vmstudio-test-bridge,id=br0', k.kept]);
    // Already in the running machine: not a change pending restart.
    expect(running()).toEqual(vm.devices);
    expect(added).toEqual(['/machine/peripheral/t1', '/machine/peripheral/t2']);
  });

  it('finds the path of an anonymous device', async () => {
    const { hp } = setup();
    const r = await hp.add('vm1', { driver: 'vmstudio-test-device', properties: {}, keep: false });
    expect(r.path).toBe('/machine/peripheral-anon/device[0]');
  });

  it('refuses bad requests with clear messages', async () => {
    const { hp } = setup();
    await expect(hp.add('vm1', { driver: 'x', id: '1abc', properties: {}, keep: false })).rejects.toThrow(
      "Parameter 'id' expects an identifier",
    );
    await expect(hp.add('vm1', { driver: 'x', properties: {}, keep: true })).rejects.toThrow(
      'A device kept after restart needs an ID',
    );
    await expect(hp.add('vm1', { driver: 'x', properties: { id: 'y' }, keep: false })).rejects.toThrow(
      "Property 'id' is set by the dialog itself",
    );
    await expect(
      hp.add('vm1', { driver: 'vmstudio-test-device', properties: { nope: '1' }, keep: false }),
    ).rejects.toThrow("Property 'vmstudio-test-device.nope' not found");
  });

  it('reports an unplug as requested, then deleted when the guest acknowledges', async () => {
    const { m, vm, hp, removals } = setup();
    await hp.add('vm1', { driver: 'vmstudio-test-device', id: 't1', properties: {}, keep: true });
    await hp.remove('vm1', 't1');
    expect(removals.map((r) => r.status)).toEqual(['requested']);
    expect(removals[0]!.message).toBe("Removal of 't1' requested — waiting for the guest");
    expect(hp.pendingPaths('vm1')).toEqual(new Set(['/machine/peripheral/t1']));
    await expect(hp.remove('vm1', 't1')).rejects.toThrow("Removal of 't1' was already requested");
    m.ack('/machine/peripheral/t1');
    expect(removals.map((r) => r.status)).toEqual(['requested', 'deleted']);
    expect(hp.pendingPaths('vm1').size).toBe(0);
    // It was kept: Remove takes it out of the configuration too.
    expect(vm.devices).toEqual(['vmstudio-test-bridge,id=br0']);
  });

  it('tells when the guest does not acknowledge in time, and still completes later', async () => {
    vi.useFakeTimers();
    try {
      const { m, hp, removals } = setup(5000);
      await hp.add('vm1', { driver: 'vmstudio-test-device', id: 't1', properties: {}, keep: false });
      await hp.remove('vm1', '/machine/peripheral/t1');
      vi.advanceTimersByTime(5000);
      expect(removals.map((r) => r.status)).toEqual(['requested', 'timeout']);
      expect(removals[1]!.message).toBe(
        "The guest has not acknowledged the removal of 't1' after 5 s; it stays until the guest releases it",
      );
      m.ack('/machine/peripheral/t1');
      expect(removals.map((r) => r.status)).toEqual(['requested', 'timeout', 'deleted']);
    } finally {
      vi.useRealTimers();
    }
  });

  it("passes the engine's refusal on for a device that cannot be unplugged", async () => {
    const { hp, removals } = setup();
    await expect(hp.remove('vm1', 'br0')).rejects.toThrow("Bus 'sysbus' does not support hotplugging");
    expect(removals).toEqual([]);
    expect(hp.pendingPaths('vm1').size).toBe(0);
  });
});

describe('-device option strings', () => {
  it('escapes and unescapes commas', () => {
    const s = deviceOptionString('dev', 'd,1', 'br0.0', { a: 'x,,y', b: 3, c: false });
    expect(s).toBe('dev,id=d,,1,bus=br0.0,a=x,,,,y,b=3,c=off');
    expect(splitOptions(s)).toEqual(['dev', 'id=d,1', 'bus=br0.0', 'a=x,,y', 'b=3', 'c=off']);
    expect(optionStringId(s)).toBe('d,1');
    expect(optionStringId('virtio-rng-device')).toBeNull();
  });
});

describe('device form specs', () => {
  it('maps QOM property types to form kinds', () => {
    expect(propertyKind({ type: 'bool' })).toBe('bool');
    expect(propertyKind({ type: 'uint16' })).toBe('int');
    expect(propertyKind({ type: 'size' })).toBe('size');
    expect(propertyKind({ type: 'str' })).toBe('str');
    // qdev's drive and chardev properties are "str" that describe what they name (QEMU 7.2's texts).
    expect(
      propertyKind({ type: 'str', description: 'Node name or ID of a block device to use as a backend' }),
    ).toBe('backend');
    expect(propertyKind({ type: 'str', description: 'ID of a chardev to use as a backend' })).toBe('backend');
    expect(propertyKind({ type: 'str', description: 'serial number' })).toBe('str');
    expect(propertyKind({ type: 'link<rng-backend>' })).toBe('link');
    expect(propertyKind({ type: 'OnOffAuto', description: 'on/off/auto' })).toBe('enum');
    expect(propertyKind({ type: 'LostTickPolicy', description: 'Policy for handling lost ticks' })).toBe(
      'other',
    );
  });

  it('resolves ranges, defaults, enum values and link candidates', async () => {
    const m = testBridgeMachine();
    m.types.set('rng-backend', { name: 'rng-backend', parent: 'object', abstract: true });
    m.types.set('rng-builtin', { name: 'rng-builtin', parent: 'rng-backend' });
    m.add(m.resolve('/objects')!, 'rng0', 'rng-builtin');
    m.types
      .get('vmstudio-test-device')!
      .props!.push(
        { name: 'u64', type: 'uint64', 'default-value': 18446744073709551615n },
        { name: 'mode', type: 'OnOffAuto', description: 'on/off/auto', 'default-value': 'auto' },
        { name: 'backend', type: 'link<rng-backend>' },
      );
    const specs = await describeDeviceProperties(m.client(), 'vmstudio-test-device');
    const by = new Map(specs.map((s) => [s.name, s]));
    expect(by.get('u8')).toEqual({
      name: 'u8',
      type: 'uint8',
      kind: 'int',
      description: null,
      defaultValue: 8,
      min: '0',
      max: '255',
    });
    expect(by.get('u64')).toMatchObject({
      defaultValue: '18446744073709551615',
      max: '18446744073709551615',
    });
    expect(by.get('mode')).toMatchObject({
      kind: 'enum',
      enumValues: ['on', 'off', 'auto'],
      defaultValue: 'auto',
    });
    expect(by.get('backend')).toMatchObject({
      kind: 'link',
      linkType: 'rng-backend',
      linkCandidates: ['/objects/rng0'],
    });
  });
});
