/**
 * A small in-memory machine that answers the QMP commands the device code uses, with QEMU's rules and
 * error texts for device_add (order of checks as in qdev_device_add), for unit tests without an engine.
 */
import { QmpClientApi } from '../../generated/qmp-client.js';
import type { QDict, QObject } from '../../generated/qmp-client-types.js';

export interface FakeType {
  name: string;
  parent: string;
  abstract?: boolean;
  /** Devices only. */
  bus?: string | null;
  userCreatable?: boolean;
  hotpluggable?: boolean;
  desc?: string;
  props?: { name: string; type: string; description?: string; 'default-value'?: QObject }[];
}

interface Obj {
  type: string;
  props: Record<string, QObject>;
  children: Map<string, Obj>;
}

export class QmpFail extends Error {
  constructor(
    message: string,
    readonly errorClass = 'GenericError',
  ) {
    super(message);
  }
}

export class FakeMachine {
  readonly types = new Map<string, FakeType>();
  readonly root: Obj = { type: 'container', props: {}, children: new Map() };
  readonly calls: { cmd: string; args?: QDict }[] = [];
  /** Created (and dropped) device instances, to check probes never realize anything. */
  instancesCreated = 0;
  hasQdm = false;
  /** Unplug needs the guest: DEVICE_DELETED only when `ack()` is called. */
  events: ((event: string, data: QDict) => void)[] = [];
  private pendingUnplug = new Set<string>();

  constructor(types: FakeType[]) {
    for (const t of [
      { name: 'object', parent: '', abstract: true },
      { name: 'container', parent: 'object' },
      { name: 'device', parent: 'object', abstract: true },
      { name: 'bus', parent: 'object', abstract: true },
      { name: 'machine', parent: 'object', abstract: true },
      ...types,
    ])
      this.types.set(t.name, t as FakeType);
    const machine = this.add(this.root, 'machine', 'machine');
    this.add(machine, 'peripheral', 'container');
    this.add(machine, 'peripheral-anon', 'container');
    this.add(this.root, 'objects', 'container');
  }

  isA(type: string, base: string): boolean {
    for (let t: string | undefined = type; t; t = this.types.get(t)?.parent) if (t === base) return true;
    return false;
  }

  add(parent: Obj, name: string, type: string, props: Record<string, QObject> = {}): Obj {
    const o: Obj = { type, props: { type, ...props }, children: new Map() };
    parent.children.set(name, o);
    return o;
  }

  resolve(path: string): Obj | null {
    let o: Obj | undefined = this.root;
    for (const part of path.split('/').filter(Boolean)) o = o?.children.get(part);
    return o ?? null;
  }

  /** Add a realized device with an optional child bus. */
  plant(
    parentPath: string,
    name: string,
    type: string,
    bus: string | null,
    childBus?: { name: string; type: string; hotplug: boolean },
  ): void {
    const parent = this.resolve(parentPath)!;
    const t = this.types.get(type)!;
    const busHot = bus ? this.resolve(bus)!.props['hotplug-handler'] !== '' : false;
    const dev = this.add(parent, name, type, {
      realized: true,
      hotpluggable: (t.hotpluggable ?? true) && (bus === null || busHot),
      hotplugged: false,
      parent_bus: bus ?? '',
    });
    for (const p of t.props ?? []) dev.props[p.name] = p['default-value'] ?? '';
    if (childBus) {
      this.add(dev, childBus.name, childBus.type, {
        realized: true,
        'hotplug-handler': childBus.hotplug ? `${parentPath}/${name}` : '',
      });
    }
  }

  private allBuses(o: Obj = this.root, path = ''): { path: string; name: string; obj: Obj }[] {
    const out: { path: string; name: string; obj: Obj }[] = [];
    for (const [n, c] of o.children) {
      const p = `${path}/${n}`;
      if (this.isA(c.type, 'bus')) out.push({ path: p, name: n, obj: c });
      out.push(...this.allBuses(c, p));
    }
    return out;
  }

  ack(path: string): void {
    if (!this.pendingUnplug.delete(path)) throw new Error(`no unplug pending for ${path}`);
    const parent = this.resolve(path.slice(0, path.lastIndexOf('/')))!;
    const name = path.slice(path.lastIndexOf('/') + 1);
    parent.children.delete(name);
    const data: QDict = { path };
    if (path.startsWith('/machine/peripheral/')) data.device = name;
    for (const l of this.events) l('DEVICE_DELETED', data);
  }

  execute(cmd: string, args: QDict = {}): QObject {
    this.calls.push({ cmd, args });
    const str = (k: string) => args[k] as string;
    switch (cmd) {
      case 'qom-list-types': {
        const impl = args.implements as string | undefined;
        return [...this.types.values()]
          .filter((t) => t.name !== 'object' && (!impl || this.isA(t.name, impl)))
          .filter((t) => args.abstract === true || !t.abstract)
          .map((t) => ({ name: t.name, parent: t.parent }));
      }
      case 'qom-list': {
        const o = this.resolve(str('path'));
        if (!o) throw new QmpFail(`Device '${str('path')}' not found`, 'DeviceNotFound');
        return [
          ...[...o.children].map(([n, c]) => ({ name: n, type: `child<${c.type}>` })),
          ...Object.keys(o.props).map((n) => ({
            name: n,
            type:
              n === 'parent_bus'
                ? 'link<bus>'
                : n === 'hotplug-handler'
                  ? 'link<hotplug-handler>'
                  : typeof o.props[n] === 'boolean'
                    ? 'bool'
                    : 'str',
          })),
        ];
      }
      case 'qom-get': {
        const o = this.resolve(str('path'));
        if (!o) throw new QmpFail(`Device '${str('path')}' not found`, 'DeviceNotFound');
        if (!(str('property') in o.props)) throw new QmpFail(`Property '${str('property')}' not found`);
        return o.props[str('property')]!;
      }
      case 'qom-set': {
        // QOM's order: permission, realized check (qdev properties), then the value's type.
        const o = this.resolve(str('path'));
        if (!o) throw new QmpFail(`Device '${str('path')}' not found`, 'DeviceNotFound');
        const prop = str('property');
        if (!(prop in o.props)) throw new QmpFail(`Property '${o.type}.${prop}' not found`);
        if (['type', 'hotpluggable', 'hotplugged', 'parent_bus'].includes(prop))
          throw new QmpFail(`Property '${o.type}.${prop}' is not writable`);
        const qdev = (this.types.get(o.type)?.props ?? []).some((p) => p.name === prop);
        if (qdev && o.props.realized === true)
          throw new QmpFail(
            `Attempt to set property '${prop}' on device (type '${o.type}') after it was realized`,
          );
        if (Array.isArray(args.value))
          throw new QmpFail(`Invalid parameter type for '${prop}', expected: string`);
        o.props[prop] = args.value!;
        return {};
      }
      case 'device-list-properties': {
        const t = this.types.get(str('typename'));
        if (!t) throw new QmpFail(`Device '${str('typename')}' not found`, 'DeviceNotFound');
        return (t.props ?? []) as unknown as QObject;
      }
      case 'human-monitor-command': {
        if (args['command-line'] !== 'info qdm' || !this.hasQdm)
          return `unknown command: '${args['command-line']}'\n`;
        return [...this.types.values()]
          .filter((t) => this.isA(t.name, 'device') && !t.abstract)
          .map(
            (t) =>
              `name "${t.name}"${t.bus ? `, bus ${t.bus}` : ''}${t.desc ? `, desc "${t.desc}"` : ''}${t.userCreatable === false ? ', no-user' : ''}\n`,
          )
          .join('');
      }
      case 'device_add':
        return this.deviceAdd(args);
      case 'device_del': {
        const id = str('id');
        const path = id.startsWith('/') ? id : `/machine/peripheral/${id}`;
        const o = this.resolve(path);
        if (!o) throw new QmpFail(`Device '${id}' not found`, 'DeviceNotFound');
        const busPath = o.props.parent_bus as string;
        const bus = busPath ? this.resolve(busPath) : null;
        if (!bus || bus.props['hotplug-handler'] === '')
          throw new QmpFail(`Bus '${busPath.split('/').pop()}' does not support hotplugging`);
        this.pendingUnplug.add(path);
        return {};
      }
      default:
        throw new QmpFail(`The command ${cmd} has not been found`, 'CommandNotFound');
    }
  }

  private deviceAdd(args: QDict): QObject {
    const driver = args.driver as string;
    const t = this.types.get(driver);
    if (!t || !this.isA(driver, 'device')) throw new QmpFail(`'${driver}' is not a valid device model name`);
    if (t.abstract) throw new QmpFail("Parameter 'driver' expects a non-abstract device type");
    if (t.userCreatable === false || t.hotpluggable === false)
      throw new QmpFail("Parameter 'driver' expects a pluggable device type");
    const buses = this.allBuses();
    let bus: (typeof buses)[number] | undefined;
    if (typeof args.bus === 'string') {
      bus = buses.find((b) => b.name === args.bus);
      if (!bus) throw new QmpFail(`Bus '${args.bus}' not found`);
      if (!t.bus || !this.isA(bus.obj.type, t.bus))
        throw new QmpFail(`Device '${driver}' can't go on ${bus.obj.type} bus`);
    } else if (t.bus) {
      bus = buses.find((b) => this.isA(b.obj.type, t.bus!));
      if (!bus) throw new QmpFail(`No '${t.bus}' bus found for device '${driver}'`);
    }
    if (bus && bus.obj.props['hotplug-handler'] === '')
      throw new QmpFail(`Bus '${bus.name}' does not support hotplugging`);
    if (!bus) throw new QmpFail(`Device '${driver}' can not be hotplugged on this machine`);
    this.instancesCreated++;
    const known = new Set((t.props ?? []).map((p) => p.name));
    for (const k of Object.keys(args)) {
      if (['driver', 'bus', 'id'].includes(k)) continue;
      if (!known.has(k)) throw new QmpFail(`Property '${driver}.${k}' not found`);
    }
    const id = args.id as string | undefined;
    const peripheral = this.resolve(id ? '/machine/peripheral' : '/machine/peripheral-anon')!;
    if (id && peripheral.children.has(id)) throw new QmpFail(`Duplicate device ID '${id}'`);
    const name = id ?? `device[${peripheral.children.size}]`;
    const dev = this.add(peripheral, name, driver, {
      realized: true,
      hotpluggable: true,
      hotplugged: true,
      parent_bus: bus.path,
    });
    for (const p of t.props ?? []) dev.props[p.name] = (args[p.name] as QObject) ?? p['default-value'] ?? '';
    return {};
  }

  /** A typed client over this machine, as main uses it. */
  client(): QmpClientApi {
    return new QmpClientApi({
      execute: async (cmd: string, args?: QDict) => {
        await Promise.resolve();
        return this.execute(cmd, args);
      },
    });
  }
}

/** The machine the e2e tests use: `-M none -device vmstudio-test-bridge,id=br0`. */
export function testBridgeMachine(): FakeMachine {
  const m = new FakeMachine([
    { name: 'System', parent: 'bus' },
    { name: 'vmstudio-test-bus', parent: 'bus' },
    { name: 'sys-bus-device', parent: 'device', abstract: true },
    { name: 'none-machine', parent: 'machine' },
    {
      name: 'vmstudio-test-bridge',
      parent: 'sys-bus-device',
      bus: 'System',
      desc: 'VM Studio test bridge (hotplug test bus)',
      props: [{ name: 'unplug-delay-ms', type: 'uint32', 'default-value': 0 }],
    },
    {
      name: 'vmstudio-test-device',
      parent: 'device',
      bus: 'vmstudio-test-bus',
      desc: 'VM Studio hotplug test device',
      props: [
        { name: 'flag', type: 'bool', 'default-value': false },
        { name: 'u8', type: 'uint8', 'default-value': 8 },
        { name: 'serial', type: 'str' },
      ],
    },
    { name: 'internal-device', parent: 'device', bus: 'System', userCreatable: false },
  ]);
  m.resolve('/machine')!.props.type = 'none-machine';
  m.add(m.resolve('/machine')!, 'unattached', 'container');
  m.add(m.resolve('/machine/unattached')!, 'sysbus', 'System', { realized: true, 'hotplug-handler': '' });
  m.plant('/machine/peripheral', 'br0', 'vmstudio-test-bridge', '/machine/unattached/sysbus', {
    name: 'br0.0',
    type: 'vmstudio-test-bus',
    hotplug: true,
  });
  return m;
}
