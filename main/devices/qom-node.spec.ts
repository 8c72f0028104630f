import { describe, expect, it } from 'vitest';
import { readQomNode } from './qom-node.js';
import { TypeHierarchy } from './qom-walk.js';
import { testBridgeMachine } from './testing/fake-machine.js';

async function node(path: string, pending: string[] = [], kept: string[] = []) {
  const m = testBridgeMachine();
  m.execute('device_add', { driver: 'vmstudio-test-device', id: 't1', u8: '7' });
  m.resolve('/machine/peripheral/t1')!.props.doorbell = 0; // a runtime register, not a qdev property
  const qmp = m.client();
  return readQomNode(qmp, path, {
    types: await TypeHierarchy.load(qmp),
    keptIds: new Set(kept),
    pendingRemoval: new Set(pending),
  });
}

describe('QOM node', () => {
  it('lists children for lazy expansion', async () => {
    const n = await node('/machine/peripheral');
    expect(n.children).toEqual([
      { name: 'br0', path: '/machine/peripheral/br0', type: 'vmstudio-test-bridge' },
      { name: 't1', path: '/machine/peripheral/t1', type: 'vmstudio-test-device' },
    ]);
    expect(n.device).toBeNull();
  });

  it('reads values and marks qdev properties fixed after realize', async () => {
    const n = await node('/machine/peripheral/t1', [], ['t1']);
    const p = new Map(n.properties.map((x) => [x.name, x]));
    expect(p.get('u8')).toMatchObject({
      value: '7',
      access: 'fixed',
      accessReason: 'set when the device was created; fixed after realize',
    });
    expect(p.get('doorbell')).toMatchObject({ value: 0, access: 'live', accessReason: null });
    expect(p.get('realized')).toMatchObject({ value: true, access: 'read-only' });
    expect(p.get('hotpluggable')).toMatchObject({
      access: 'read-only',
      accessReason: 'the engine has no way to change it',
    });
    expect(p.get('parent_bus')).toMatchObject({
      value: '/machine/peripheral/br0/br0.0',
      access: 'read-only',
    });
    expect(n.device).toEqual({
      id: 't1',
      type: 'vmstudio-test-device',
      bus: '/machine/peripheral/br0/br0.0',
      busHotpluggable: true,
      removable: true,
      reason: null,
      kept: true,
      removalPending: false,
    });
  });

  it('never changes a value while probing setters', async () => {
    const m = testBridgeMachine();
    m.execute('device_add', { driver: 'vmstudio-test-device', id: 't1', u8: '7' });
    m.resolve('/machine/peripheral/t1')!.props.doorbell = 5;
    const qmp = m.client();
    const before = JSON.stringify(m.resolve('/machine/peripheral/t1')!.props);
    await readQomNode(qmp, '/machine/peripheral/t1', {
      types: await TypeHierarchy.load(qmp),
      keptIds: new Set(),
      pendingRemoval: new Set(),
    });
    expect(JSON.stringify(m.resolve('/machine/peripheral/t1')!.props)).toBe(before);
    expect(m.calls.filter((c) => c.cmd === 'qom-set').every((c) => Array.isArray(c.args!.value))).toBe(true);
  });

  it('says exactly why a device cannot be removed', async () => {
    const br = await node('/machine/peripheral/br0');
    expect(br.device).toMatchObject({
      removable: false,
      reason:
        "'br0' (vmstudio-test-bridge) is not hotpluggable: its bus 'sysbus' does not support hotplugging",
    });
    const pending = await node('/machine/peripheral/t1', ['/machine/peripheral/t1']);
    expect(pending.device).toMatchObject({
      removable: false,
      removalPending: true,
      reason: "Removal of 't1' (vmstudio-test-device) was requested — waiting for the guest",
    });
  });
});
