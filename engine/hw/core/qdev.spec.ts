import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import '../../backends/index.js';
import { qdict } from '../../qobject/qobject.js';
import type { QapiError } from '../../qapi/error.js';
import {
  objectResolvePath,
  objectPropertySetQobject,
  objectPropertyGetQobject,
  objectUnparent,
  qomResetRoot,
  typeRegister,
} from '../../qom/object.js';
import {
  userCreatableAddDict,
  userCreatableDel,
  objectSetPropertiesFromKeyval,
} from '../../qom/object-interfaces.js';
import {
  qmpQomList,
  qmpQomListTypes,
  qmpDeviceListProperties,
  qmpQomGet,
  qmpQomSet,
} from '../../qom/qom-qmp-cmds.js';
import { formatQomTree } from '../../qom/qom-hmp-cmds.js';
import {
  onDeviceDeleted,
  qdevPropRegisterGlobal,
  qdevPropClearGlobals,
  qdevNew,
  qdevRealizeAndUnref,
  qdevInitGpioIn,
  qbusResetAll,
  type DeviceDeletedEvent,
} from './qdev-core.js';
import {
  SysBusDevice,
  TYPE_SYS_BUS_DEVICE,
  sysbusGetDefault,
  sysbusInitIrq,
  sysbusConnectIrq,
  sysbusInitMmio,
  sysbusMmioMap,
} from './sysbus.js';
import { qemuSetIrq } from './irq.js';
import {
  machineCreate,
  machineRunBoardInit,
  qdevMachineCreationDone,
  qmpQueryMachines,
  machineHelp,
} from './machine.js';
import {
  qdevDeviceAdd,
  qmpDeviceAdd,
  qmpDeviceDel,
  qdevDeviceHelp,
  formatQtree,
  qbusFind,
} from './qdev-monitor.js';
import { testBridgeCreate, testBridgeGuestAck, type TestBridge } from '../testdev/test-bridge.js';
import '../testdev/index.js';
import type { TestDevice } from '../testdev/test-device.js';

let bridge: TestBridge;
let deleted: DeviceDeletedEvent[];
let unsubscribe: () => void;

function boot(opts: { hotplugReady?: boolean; unplugDelayMs?: number } = {}): void {
  const m = machineCreate('none');
  bridge = testBridgeCreate({ unplugDelayMs: opts.unplugDelayMs });
  machineRunBoardInit(m);
  if (opts.hotplugReady) qdevMachineCreationDone();
}

const add = (d: Record<string, string>) => qdevDeviceAdd(qdict(d)) as TestDevice;
const errOf = (fn: () => unknown): QapiError => {
  try {
    fn();
  } catch (e) {
    return e as QapiError;
  }
  throw new Error('no error thrown');
};

beforeEach(() => {
  qomResetRoot();
  qdevPropClearGlobals();
  deleted = [];
  unsubscribe = onDeviceDeleted((ev) => deleted.push(ev));
});
afterEach(() => unsubscribe());

describe('device_add (cold plug)', () => {
  it('creates, names, configures and realizes a device on the right bus', () => {
    boot();
    const d = add({
      driver: 'vmstudio-test-device',
      id: 'd0',
      u8: '200',
      size: '1M',
      mode: 'on',
      flag: 'on',
      'feature-b': 'on',
    });
    expect(d.realized).toBe(true);
    expect(d.hotplugged).toBe(false);
    expect([d.u8, d.size, d.mode, d.flag, d.features64]).toEqual([200, 1048576, 'on', true, 1n << 40n]);
    expect(d.features).toBe(1); // feature-a default on
    expect(d.u64).toBe(0xffffffffffffffffn);
    expect(d.addr).toBe(0);
    expect(objectResolvePath('/machine/peripheral/d0')).toBe(d);
    expect(d.parentBus).toBe(bridge.bus);
    expect(bridge.log).toEqual(['pre_plug:d0', 'plug:d0']);
    expect(d.realizeCount).toBe(1);
    const anon = add({ driver: 'vmstudio-test-device' });
    expect(objectResolvePath('/machine/peripheral-anon/device[0]')).toBe(anon);
    expect(anon.addr).toBe(1);
    expect(bridge.bus!.children.map((k) => k.child)).toEqual([anon, d]); // newest first
    expect(qmpQomGet({ path: '/machine/peripheral/d0', property: 'parent_bus' })).toBe(
      '/machine/unattached/device[0]/vmstudio-test-bus.0',
    );
  });

  it('reports QEMU errors', () => {
    boot();
    const cases: [Record<string, string>, string][] = [
      [{ id: 'x' }, "Parameter 'driver' is missing"],
      [{ driver: 'nope' }, "'nope' is not a valid device model name"],
      [{ driver: 'rng-builtin' }, "'rng-builtin' is not a valid device model name"],
      [{ driver: 'virtio-blk' }, "'virtio-blk' (alias 'virtio-blk-pci') is not a valid device model name"],
      [{ driver: 'device' }, "Parameter 'driver' expects a non-abstract device type"],
      [{ driver: 'vmstudio-test-device', bus: 'nope' }, "Bus 'nope' not found"],
      [
        { driver: 'vmstudio-test-device', bus: 'main-system-bus' },
        "Device 'vmstudio-test-device' can't go on System bus",
      ],
      [{ driver: 'vmstudio-test-device', bogus: '1' }, "Property 'vmstudio-test-device.bogus' not found"],
      [{ driver: 'vmstudio-test-device', u8: '256' }, "Parameter 'u8' expects uint8_t"],
      [{ driver: 'vmstudio-test-device', flag: 'maybe' }, "Parameter 'flag' expects 'on' or 'off'"],
      [
        { driver: 'vmstudio-test-device', mode: 'sometimes' },
        "Parameter 'mode' does not accept value 'sometimes'",
      ],
      [{ driver: 'vmstudio-test-device', backend: 'nothing' }, "Device 'nothing' not found"],
      [
        { driver: 'vmstudio-test-device', serial: 'fail-realize', id: 'bad' },
        'vmstudio-test-device: realize failure requested',
      ],
    ];
    for (const [opts, msg] of cases) expect(errOf(() => add(opts)).message, JSON.stringify(opts)).toBe(msg);
    expect(errOf(() => add({ driver: 'vmstudio-test-device', bus: 'nope' })).errorClass).toBe('GenericError');
    // failures leave nothing behind
    expect(objectResolvePath('/machine/peripheral/bad')).toBeNull();
    expect(bridge.bus!.children).toEqual([]);
    add({ driver: 'vmstudio-test-device', id: 'dup' });
    expect(errOf(() => add({ driver: 'vmstudio-test-device', id: 'dup' })).message).toBe(
      "Duplicate device ID 'dup'",
    );
  });

  it('links to user objects, checks slots and fills the bus', () => {
    boot();
    userCreatableAddDict(qdict({ 'qom-type': 'rng-builtin', id: 'rng0' }));
    userCreatableAddDict(qdict({ 'qom-type': 'secret', id: 'sec', data: 'x' }));
    expect(errOf(() => add({ driver: 'vmstudio-test-device', backend: 'sec' })).message).toBe(
      "Invalid parameter type for 'backend', expected: rng-backend",
    );
    const d = add({ driver: 'vmstudio-test-device', id: 'd', backend: 'rng0', addr: '2' });
    expect(d.backend).toBe(objectResolvePath('/objects/rng0'));
    // object-del detaches the backend; the device's strong link keeps it alive
    const rng = d.backend!;
    userCreatableDel('rng0');
    expect(rng.parent).toBeNull();
    expect(rng.finalized).toBe(false);
    expect(errOf(() => add({ driver: 'vmstudio-test-device', addr: '2' })).message).toBe(
      "Slot 2 on bus 'vmstudio-test-bus.0' is in use by device 'd'",
    );
    expect(errOf(() => add({ driver: 'vmstudio-test-device', addr: '9' })).message).toBe(
      "Property 'vmstudio-test-device.addr' doesn't take value 9 (slots 0-3)",
    );
    objectUnparent(d);
    expect(rng.finalized).toBe(true);
  });

  it('explains bus paths', () => {
    boot();
    add({ driver: 'vmstudio-test-device', id: 'd' });
    expect(qbusFind('vmstudio-test-bus.0')).toBe(bridge.bus);
    expect(qbusFind('/vmstudio-test-bridge')).toBe(bridge.bus);
    expect(qbusFind('/vmstudio-test-bridge/vmstudio-test-bus.0')).toBe(bridge.bus);
    const e = errOf(() => qbusFind('/nope'));
    expect(e.message).toBe("Device 'nope' not found");
    expect(e.errorClass).toBe('DeviceNotFound');
    expect(e.hint).toBe('devices at "main-system-bus": "vmstudio-test-bridge"\n');
    expect(errOf(() => qbusFind('/vmstudio-test-bridge/x')).hint).toBe(
      'child buses at "vmstudio-test-bridge": "vmstudio-test-bus.0"\n',
    );
    expect(errOf(() => qbusFind('vmstudio-test-bus.0/d')).message).toBe("Device 'd' has no child bus");
  });
});

describe('property freezing', () => {
  it('refuses static property changes after realize', () => {
    boot();
    const d = add({ driver: 'vmstudio-test-device', id: 'd0' });
    expect(errOf(() => objectPropertySetQobject(d, 'u8', 1)).message).toBe(
      "Attempt to set property 'u8' on device 'd0' (type 'vmstudio-test-device') after it was realized",
    );
    const anon = add({ driver: 'vmstudio-test-device' });
    expect(errOf(() => objectPropertySetQobject(anon, 'serial', 'x')).message).toBe(
      "Attempt to set property 'serial' on anonymous device (type 'vmstudio-test-device') after it was realized",
    );
    expect(errOf(() => objectPropertySetQobject(d, 'backend', '')).message).toBe(
      "Attempt to set link property 'backend' on device 'd0' (type 'vmstudio-test-device') after it was realized",
    );
    expect(objectPropertyGetQobject(d, 'u8')).toBe(8);
    // but an unrealized device accepts them, and qom-set realized=false unfreezes
    objectPropertySetQobject(d, 'realized', false);
    expect(d.unrealizeCount).toBe(1);
    objectPropertySetQobject(d, 'u8', 9);
    expect(d.u8).toBe(9);
  });

  it('applies -global defaults, failing cold plug on bad values', () => {
    boot();
    qdevPropRegisterGlobal({ driver: 'vmstudio-test-device', property: 'u16', value: '77' });
    expect(add({ driver: 'vmstudio-test-device' }).u16).toBe(77);
    expect(add({ driver: 'vmstudio-test-device', u16: '5' }).u16).toBe(5);
    qdevPropRegisterGlobal({ driver: 'device', property: 'i8', value: 'x' });
    expect(errOf(() => add({ driver: 'vmstudio-test-device' })).message).toBe(
      "can't apply global device.i8=x: Parameter 'i8' expects int64",
    );
  });
});

describe('hotplug and device_del', () => {
  it('hotplugs, resets, unplugs after the guest acknowledges and emits DEVICE_DELETED', () => {
    boot({ hotplugReady: true });
    qmpDeviceAdd({ driver: 'vmstudio-test-device', id: 'hp', u32: 7, flag: true });
    const d = objectResolvePath('/machine/peripheral/hp') as TestDevice;
    expect([d.u32, d.flag, d.hotplugged, d.resetCount]).toEqual([7, true, true, 1]);
    expect(objectPropertyGetQobject(d, 'hotpluggable')).toBe(true);
    qmpDeviceDel({ id: 'hp' });
    expect(bridge.log.slice(-1)).toEqual(['unplug_request:hp']);
    expect(objectResolvePath('/machine/peripheral/hp')).toBe(d);
    expect(deleted).toEqual([]);
    expect(errOf(() => qmpDeviceDel({ id: 'hp' })).message).toBe(
      'Device hp is already in the process of unplug',
    );
    expect(testBridgeGuestAck(d)).toBe(true);
    expect(deleted).toEqual([{ device: 'hp', path: '/machine/peripheral/hp' }]);
    expect(objectResolvePath('/machine/peripheral/hp')).toBeNull();
    expect(d.finalized).toBe(true);
    expect(d.unrealizeCount).toBe(1);
    expect(bridge.bus!.children).toEqual([]);
    expect(bridge.log.slice(-1)).toEqual(['unplug:hp']);
    expect(testBridgeGuestAck(d)).toBe(false);
  });

  it('completes on the guest timer; anonymous devices report only the path', async () => {
    boot({ hotplugReady: true, unplugDelayMs: 5 });
    qdevDeviceAdd(qdict({ driver: 'vmstudio-test-device' }));
    qmpDeviceDel({ id: '/machine/peripheral-anon/device[0]' });
    expect(deleted).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
    expect(deleted).toEqual([{ path: '/machine/peripheral-anon/device[0]' }]);
  });

  it('reports devices removed with their parent even without an id', () => {
    boot();
    const d = qdevNew<TestDevice>('vmstudio-test-device');
    qdevRealizeAndUnref(d, bridge.bus);
    const path = d.canonicalPath;
    expect(path).toMatch(/^\/machine\/unattached\/device\[\d+\]$/);
    objectUnparent(bridge);
    expect(deleted).toEqual([{ path }, { path: '/machine/unattached/device[0]' }]);
  });

  it('refuses what cannot be unplugged', () => {
    boot({ hotplugReady: true });
    const nf = errOf(() => qmpDeviceDel({ id: 'zz' }));
    expect([nf.message, nf.errorClass]).toEqual(["Device 'zz' not found", 'DeviceNotFound']);
    expect(errOf(() => qmpDeviceDel({ id: '/machine/unattached/device[0]' })).message).toBe(
      "Bus 'main-system-bus' does not support hotplugging",
    );
    expect(errOf(() => qmpDeviceDel({ id: '/machine/unattached' })).message).toBe(
      '/machine/unattached is not a hotpluggable device',
    );
    expect(errOf(() => qmpDeviceAdd({ driver: 'vmstudio-test-device', id: '0bad' })).message).toBe(
      "Parameter 'id' expects an identifier",
    );
    for (let i = 0; i < 4; i++) qmpDeviceAdd({ driver: 'vmstudio-test-device' });
    expect(errOf(() => qmpDeviceAdd({ driver: 'vmstudio-test-device' })).message).toBe(
      "No 'vmstudio-test-bus' bus found for device 'vmstudio-test-device'",
    );
    expect(
      errOf(() => qmpDeviceAdd({ driver: 'vmstudio-test-device', bus: 'vmstudio-test-bus.0' })).message,
    ).toBe("Bus 'vmstudio-test-bus.0' is full");
  });
});

// A sysbus device with GPIOs and MMIO, to check `info qtree` lines.
class GpioDev extends SysBusDevice {
  levels: number[] = [];
  out: ReturnType<typeof sysbusInitIrq> = [null];
}
typeRegister<GpioDev>({
  name: 'spec-gpio-dev',
  parent: TYPE_SYS_BUS_DEVICE,
  instance: GpioDev,
  instanceInit(d) {
    qdevInitGpioIn(d, (opaque, n, level) => (opaque as GpioDev).levels.push(n * 10 + level), 2);
    d.out = sysbusInitIrq(d);
    sysbusInitMmio(d, { size: 0x100 });
  },
});

describe('info qtree / info qom-tree', () => {
  it('prints the qdev tree in QEMU layout', () => {
    boot();
    const a = qdevNew<GpioDev>('spec-gpio-dev');
    qdevRealizeAndUnref(a, sysbusGetDefault());
    sysbusMmioMap(a, 0, 0x10001000);
    const b = qdevNew<GpioDev>('spec-gpio-dev');
    qdevRealizeAndUnref(b, sysbusGetDefault());
    sysbusConnectIrq(a, 0, b.gpios.find((g) => g.name === null)!.in[1]!);
    qemuSetIrq(a.out[0]!, 1);
    expect(b.levels).toEqual([11]);
    add({ driver: 'vmstudio-test-device', id: 'd0', serial: 'abc' });
    const dev = [
      '      dev: vmstudio-test-device, id "d0"',
      '        flag = false',
      '        feature-a = true',
      '        feature-b = false',
      '        u8 = 8 (0x8)',
      '        u16 = 16 (0x10)',
      '        u32 = 32 (0x20)',
      '        u64 = -1 (0xffffffffffffffff)', // QEMU prints uint64 through int64 (string-output-visitor FIXME)
      '        i8 = -8 (0xfffffffffffffff8)',
      '        i16 = -16 (0xfffffffffffffff0)',
      '        i32 = -32 (0xffffffffffffffe0)',
      '        i64 = -64 (0xffffffffffffffc0)',
      '        size = 4096 (4 KiB)',
      '        size32 = 512 (512 B)',
      '        serial = "abc"',
      '        mode = "auto"',
      '        backend = ""',
      '        chardev = ""',
      '        drive = ""',
      '        netdev = ""',
      '        addr = 0 (0x0)',
      '        slot 0',
    ];
    const gpio = (addr: string) => [
      '  dev: spec-gpio-dev, id ""',
      '    gpio-out "sysbus-irq" 1',
      '    gpio-in "" 2',
      `    mmio ${addr}/0000000000000100`,
    ];
    expect(formatQtree()).toBe(
      [
        'bus: main-system-bus',
        '  type System',
        ...gpio('ffffffffffffffff'),
        ...gpio('0000000010001000'),
        '  dev: vmstudio-test-bridge, id ""',
        '    unplug-delay-ms = 0 (0x0)',
        '    mmio ffffffffffffffff/0000000000001000',
        '    bus: vmstudio-test-bus.0',
        '      type vmstudio-test-bus',
        ...dev,
        '',
      ].join('\n'),
    );
  });

  it('prints the composition tree sorted like QEMU', () => {
    boot();
    for (let i = 0; i < 11; i++) qdevRealizeAndUnref(qdevNew('spec-gpio-dev'), sysbusGetDefault());
    add({ driver: 'vmstudio-test-device', id: 'd0' });
    const tree = formatQomTree();
    expect(
      tree.startsWith(
        '/machine (none-machine)\n  /peripheral (container)\n    /d0 (vmstudio-test-device)\n  /peripheral-anon (container)\n  /unattached (container)\n    /device[0] (vmstudio-test-bridge)\n      /vmstudio-test-bus.0 (vmstudio-test-bus)\n    /device[10] (spec-gpio-dev)\n',
      ),
    ).toBe(true);
    expect(tree).toContain(
      '    /device[11] (spec-gpio-dev)\n      /unnamed-gpio-in[0] (irq)\n      /unnamed-gpio-in[1] (irq)\n    /device[1] (spec-gpio-dev)\n',
    );
    expect(tree.endsWith('    /sysbus (System)\n')).toBe(true);
    expect(formatQomTree('/machine/peripheral')).toBe(
      '/peripheral (container)\n  /d0 (vmstudio-test-device)\n',
    );
    expect(formatQomTree('/nope')).toBe("Path '/nope' could not be resolved.\n");
    expect(formatQomTree('device[0]')).toBe(
      '/device[0] (vmstudio-test-bridge)\n  /vmstudio-test-bus.0 (vmstudio-test-bus)\n',
    );
    add({ driver: 'vmstudio-test-device' }); // /machine/peripheral-anon/device[0]
    expect(formatQomTree('device[0]')).toBe("Warning: Path 'device[0]' is ambiguous.\n");
  });

  it('resets the tree children first', () => {
    boot();
    const d = add({ driver: 'vmstudio-test-device' });
    qbusResetAll(sysbusGetDefault());
    expect(d.resetCount).toBe(1);
  });
});

describe('help and QMP introspection', () => {
  it('prints -device help and DRIVER,help like QEMU', () => {
    boot();
    const list = qdevDeviceHelp(qdict({ driver: 'help' }))!;
    expect(list).toContain(
      'Misc devices:\nname "vmstudio-test-device", bus vmstudio-test-bus, desc "VM Studio hotplug test device"\n',
    );
    // A dynamic sysbus device: listed, since boards that allow it take it from -device.
    expect(list).toContain(
      'Controller/Bridge/Hub devices:\nname "vmstudio-test-bridge", bus System, desc "VM Studio test bridge (hotplug test bus)"\n',
    );
    expect(qdevDeviceHelp(qdict({ driver: 'vmstudio-test-device' }))).toBeNull();
    const props = qdevDeviceHelp(qdict({ driver: 'vmstudio-test-device', help: 'on' }))!.split('\n');
    expect(props[0]).toBe('vmstudio-test-device options:');
    expect(props).toContain('  addr=<int32>           -  (default: -1)');
    expect(props).toContain('  backend=<link<rng-backend>>');
    expect(props).toContain(
      '  drive=<str>            - Node name or ID of a block device to use as a backend',
    );
    expect(props).toContain('  feature-a=<bool>       - on/off (default: true)');
    expect(props).toContain('  flag=<bool>            -  (default: false)');
    expect(props).toContain('  mode=<OnOffAuto>       - on/off/auto (default: "auto")');
    expect(props).toContain('  serial=<str>');
    expect(props).toContain('  u64=<uint64>           -  (default: 18446744073709551615)');
    expect(props.slice(1, -1)).toEqual([...props.slice(1, -1)].sort());
    expect(errOf(() => qdevDeviceHelp(qdict({ driver: 'nope', help: 'on' }))).message).toBe(
      "Device 'nope' not found",
    );
    expect(qdevDeviceHelp(qdict({ driver: 'vmstudio-test-bridge', help: 'on' }))).toBe(
      'vmstudio-test-bridge options:\n  unplug-delay-ms=<uint32> -  (default: 0)\n',
    );
  });

  it('answers device-list-properties, qom-list, qom-list-types, query-machines', () => {
    boot();
    const props = qmpDeviceListProperties({ typename: 'vmstudio-test-device' });
    expect(props.map((p) => p.name)).not.toContain('realized');
    expect(props.find((p) => p.name === 'mode')).toEqual({
      name: 'mode',
      type: 'OnOffAuto',
      description: 'on/off/auto',
      'default-value': 'auto',
    });
    expect(props.find((p) => p.name === 'u64')?.['default-value']).toBe(0xffffffffffffffffn);
    expect(errOf(() => qmpDeviceListProperties({ typename: 'secret' })).message).toBe(
      "Parameter 'typename' expects device",
    );
    expect(errOf(() => qmpDeviceListProperties({ typename: 'sys-bus-device' })).message).toBe(
      "Parameter 'typename' expects a non-abstract device type",
    );
    add({ driver: 'vmstudio-test-device', id: 'd0' });
    const l = qmpQomList({ path: '/machine/peripheral/d0' });
    expect(l).toContainEqual({ name: 'parent_bus', type: 'link<bus>' });
    expect(l).toContainEqual({ name: 'type', type: 'string' });
    expect(qmpQomList({ path: '/machine/unattached/device[0]' })).toContainEqual({
      name: 'vmstudio-test-bus.0',
      type: 'child<vmstudio-test-bus>',
    });
    expect(qmpQomList({ path: '/machine/unattached/device[0]/vmstudio-test-bus.0' })).toContainEqual({
      name: 'child[0]',
      type: 'link<vmstudio-test-device>',
    });
    const types = qmpQomListTypes({ implements: 'device' });
    expect(types).toContainEqual({ name: 'vmstudio-test-device', parent: 'device' });
    expect(types.find((t) => t.name === 'device')).toBeUndefined();
    expect(qmpQomListTypes({ implements: 'device', abstract: true })).toContainEqual({
      name: 'device',
      abstract: true,
      parent: 'object',
    });
    expect(qmpQomListTypes({ implements: 'hotplug-handler' }).map((t) => t.name)).toEqual([
      'vmstudio-test-bridge',
    ]);
    expect(qmpQueryMachines()).toContainEqual({
      name: 'none',
      'cpu-max': 1,
      'hotpluggable-cpus': false,
      'numa-mem-supported': false,
      deprecated: false,
      'default-ram-id': 'ram',
    });
    expect(machineHelp()).toContain('none                 empty machine\n');
    expect(errOf(() => machineCreate('nope')).message).toBe('unsupported machine type');
  });
});

describe('machine properties', () => {
  it('parses -m and -smp like QEMU', () => {
    const m = machineCreate('none');
    const set = (name: string, d: Record<string, string>) =>
      objectSetPropertiesFromKeyval(m, qdict({ [name]: qdict(d) }), false);
    set('memory', { size: '100M' });
    expect(m.ramSize).toBe(100n * 1024n * 1024n);
    set('memory', { size: '1000' });
    expect(m.ramSize).toBe(8192n); // aligned up to 8 KiB
    expect(objectPropertyGetQobject(m, 'memory')).toEqual({ size: 8192 });
    expect(errOf(() => set('memory', { size: '1G', 'max-size': '512M' })).message).toBe(
      'invalid value of maxmem: maximum memory size (0x20000000) must be at least the initial memory size (0x40000000)',
    );
    expect(errOf(() => set('memory', { size: '1G', maxmem: '2G' })).message).toBe(
      "Parameter 'memory.maxmem' is unexpected",
    );
    set('smp', { cpus: '1' });
    expect(m.smp).toMatchObject({ cpus: 1, sockets: 1, cores: 1, threads: 1, maxCpus: 1 });
    expect(errOf(() => set('smp', { cpus: '2' })).message).toBe(
      "Invalid SMP CPUs 2. The max CPUs supported by machine 'none' is 1",
    );
    expect(errOf(() => set('smp', { cpus: '1', sockets: '2', cores: '1', threads: '1' })).message).toBe(
      'Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * cores (1) * threads (1) != maxcpus (1)',
    );
    expect(errOf(() => set('smp', { dies: '2' })).message).toBe(
      "dies not supported by this machine's CPU topology",
    );
  });
});

describe('qom-set and machine hotplug handlers', () => {
  it('sets properties by path and lets a machine handle bus-less hotplug', () => {
    boot();
    expect(() =>
      qmpQomSet({ path: '/machine/unattached/device[0]', property: 'unplug-delay-ms', value: 5 }),
    ).toThrow(
      "Attempt to set property 'unplug-delay-ms' on anonymous device (type 'vmstudio-test-bridge') after it was realized",
    );
    expect(errOf(() => qmpQomSet({ path: '/nope', property: 'x', value: 1 })).errorClass).toBe(
      'DeviceNotFound',
    );
    // a machine-level handler is consulted before the bus's (qdev_get_hotplug_handler)
    const mc = objectResolvePath('/machine')!.class as unknown as { getHotplugHandler?: unknown };
    const seen: string[] = [];
    mc.getHotplugHandler = (_m: unknown, dev: { id: string | null }) => {
      seen.push(dev.id ?? '');
      return bridge;
    };
    try {
      add({ driver: 'vmstudio-test-device', id: 'mh' });
      expect(seen).toContain('mh');
    } finally {
      delete mc.getHotplugHandler;
    }
  });
});
