import { describe, expect, it } from 'vitest';
import { buildDeviceCatalog, PROBE_BUS } from './catalog.js';
import { parseQdm } from './qdm.js';
import { testBridgeMachine } from './testing/fake-machine.js';

const byType = (c: Awaited<ReturnType<typeof buildDeviceCatalog>>) =>
  new Map(c.devices.map((d) => [d.type, d]));

describe('device catalog', () => {
  it('finds the live buses and which of them take hotplugged devices', async () => {
    const m = testBridgeMachine();
    const c = await buildDeviceCatalog(m.client(), { probeId: 'p0' });
    expect(c.buses).toEqual([
      { path: '/machine/peripheral/br0/br0.0', name: 'br0.0', type: 'vmstudio-test-bus', hotpluggable: true },
      { path: '/machine/unattached/sysbus', name: 'sysbus', type: 'System', hotpluggable: false },
    ]);
  });

  it('without info qdm: asks the engine with device_add calls that fail before realize', async () => {
    const m = testBridgeMachine();
    const c = await buildDeviceCatalog(m.client(), { probeId: 'p0' });
    expect(c.source).toBe('probe');
    const d = byType(c);
    expect(d.get('vmstudio-test-device')).toMatchObject({
      available: true,
      reason: null,
      buses: ['/machine/peripheral/br0/br0.0'],
      busType: 'vmstudio-test-bus',
    });
    expect(d.get('vmstudio-test-bridge')).toMatchObject({
      available: false,
      reason: "vmstudio-test-bridge is not hotpluggable here: bus 'sysbus' does not support hotplugging",
    });
    expect(d.get('internal-device')!.reason).toBe(
      'internal-device cannot be hot-plugged (not user-creatable or not hotpluggable)',
    );
    // Available first; nothing was left in the machine by the probes.
    expect(c.devices[0]!.type).toBe('vmstudio-test-device');
    expect([...m.resolve('/machine/peripheral')!.children.keys()]).toEqual(['br0']);
    expect([...m.resolve('/machine/peripheral-anon')!.children.keys()]).toEqual([]);
    // The first probe of every type names a bus that cannot exist.
    const first = m.calls.filter((x) => x.cmd === 'device_add' && x.args?.bus === PROBE_BUS);
    expect(first.map((x) => x.args!.driver).sort()).toEqual([
      'internal-device',
      'vmstudio-test-bridge',
      'vmstudio-test-device',
    ]);
  });

  it('with several hotpluggable buses lists exactly the ones a type fits', async () => {
    const m = testBridgeMachine();
    m.types.set('other-bus', { name: 'other-bus', parent: 'bus' });
    m.types.set('other-device', { name: 'other-device', parent: 'device', bus: 'other-bus' });
    m.plant('/machine/peripheral', 'br1', 'vmstudio-test-bridge', '/machine/unattached/sysbus', {
      name: 'br1.0',
      type: 'vmstudio-test-bus',
      hotplug: true,
    });
    m.plant('/machine/peripheral', 'ob', 'vmstudio-test-bridge', '/machine/unattached/sysbus', {
      name: 'ob.0',
      type: 'other-bus',
      hotplug: true,
    });
    const d = byType(await buildDeviceCatalog(m.client(), { probeId: 'p0' }));
    expect(d.get('vmstudio-test-device')!.buses).toEqual([
      '/machine/peripheral/br0/br0.0',
      '/machine/peripheral/br1/br1.0',
    ]);
    expect(d.get('other-device')!.buses).toEqual(['/machine/peripheral/ob/ob.0']);
  });

  it('names the missing bus type', async () => {
    const m = testBridgeMachine();
    m.types.set('virtio-bus', { name: 'virtio-bus', parent: 'bus', abstract: true });
    m.types.set('virtio-rng-device', { name: 'virtio-rng-device', parent: 'device', bus: 'virtio-bus' });
    const d = byType(await buildDeviceCatalog(m.client()));
    expect(d.get('virtio-rng-device')).toMatchObject({
      available: false,
      busType: 'virtio-bus',
      reason: 'virtio-rng-device needs a virtio-bus bus: this machine has none free',
    });
  });

  it('with info qdm: takes bus types and descriptions from it and creates no device at all', async () => {
    const m = testBridgeMachine();
    m.hasQdm = true;
    const c = await buildDeviceCatalog(m.client());
    expect(c.source).toBe('info-qdm');
    const d = byType(c);
    expect(d.get('vmstudio-test-device')).toMatchObject({
      available: true,
      description: 'VM Studio hotplug test device',
      busType: 'vmstudio-test-bus',
      buses: ['/machine/peripheral/br0/br0.0'],
    });
    expect(d.get('internal-device')!.reason).toBe('internal-device is not user-creatable');
    expect(d.get('vmstudio-test-bridge')!.reason).toBe(
      "vmstudio-test-bridge is not hotpluggable here: bus 'sysbus' does not support hotplugging",
    );
    expect(m.instancesCreated).toBe(0);
  });

  it('says "not hotpluggable" for a user-creatable type the engine refuses once running', async () => {
    const m = testBridgeMachine();
    m.hasQdm = true;
    m.types.set('cold-device', {
      name: 'cold-device',
      parent: 'device',
      bus: 'vmstudio-test-bus',
      hotpluggable: false,
    });
    expect(byType(await buildDeviceCatalog(m.client())).get('cold-device')!.reason).toBe(
      'cold-device is not hotpluggable',
    );
  });
});

describe('info qdm', () => {
  it('parses QEMU’s device model lines', () => {
    const text =
      'Misc devices:\n' +
      'name "vmstudio-test-device", bus vmstudio-test-bus, desc "VM Studio hotplug test device"\n' +
      'name "virtio-rng-pci", bus PCI, alias "virtio-rng", desc "a, b \\"c\\""\n' +
      'name "cpu-cluster", desc "CPU cluster", no-user\n';
    const m = parseQdm(text);
    expect([...m.keys()]).toEqual(['vmstudio-test-device', 'virtio-rng-pci', 'cpu-cluster']);
    expect(m.get('virtio-rng-pci')).toEqual({
      name: 'virtio-rng-pci',
      bus: 'PCI',
      alias: 'virtio-rng',
      desc: 'a, b \\"c\\"',
      userCreatable: true,
    });
    expect(m.get('cpu-cluster')).toMatchObject({ bus: null, userCreatable: false });
    expect(parseQdm("unknown command: 'info qdm'\n").size).toBe(0);
  });
});
