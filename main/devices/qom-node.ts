/**
 * One node of the live QOM tree for the Devices tab: its children (for lazy expansion), each
 * property's value, and when a change to it takes effect, from what the engine reports. QMP has
 * no "writable" flag, so each property is asked with a `qom-set` whose value has the wrong JSON type
 * (an empty list): QOM checks realize state and permissions before it visits the value, and the
 * visit then fails, so nothing is ever changed:
 * - "Attempt to set property ... after it was realized": fixed (qdev properties of a realized device);
 * - "Property '...' is not writable": read-only;
 * - a type error: the property has a setter that applies live.
 * Bookkeeping (realized, parent_bus, links) is shown read-only whatever its setter, and the machine's
 * options as fixed: they are set when the engine starts (Configuration, next boot).
 * For devices it also says whether `device_del` can remove them and, if not, exactly why.
 */
import type { DeviceNodeInfo, PropertyAccess, QomNodeInfo, QomPropertyValue } from '../api/contract.js';
import type { QmpClientApi } from '../generated/qmp-client.js';
import { toWire } from '../api/wire.js';
import { childType, joinPath, type TypeHierarchy } from './qom-walk.js';

const DEVICE_BOOKKEEPING = new Set(['realized', 'hotpluggable', 'hotplugged', 'parent_bus']);

export interface NodeContext {
  types: TypeHierarchy;
  /** Ids of devices saved in the configuration. */
  keptIds: ReadonlySet<string>;
  /** QOM paths with a device_del waiting for the guest. */
  pendingRemoval: ReadonlySet<string>;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const lastName = (path: string): string => path.slice(path.lastIndexOf('/') + 1) || '/';

/** The value a setter can never accept (every property is a scalar or an object). */
export const PROBE_VALUE: never[] = [];

/** What the engine answered to the probing qom-set (null: it accepted it, i.e. a settable property). */
export function classifyProperty(
  prop: { name: string; type: string },
  node: { path: string; isDevice: boolean; isBus: boolean },
  probeError: string | null,
): { access: PropertyAccess; reason: string | null } {
  if (probeError && /after it was realized/.test(probeError))
    return { access: 'fixed', reason: 'set when the device was created; fixed after realize' };
  if (probeError && /is not writable|Insufficient permission/i.test(probeError))
    return { access: 'read-only', reason: 'the engine has no way to change it' };
  if (prop.type.startsWith('link<'))
    return { access: 'read-only', reason: 'a link to another object, set up by the engine' };
  if ((node.isDevice && DEVICE_BOOKKEEPING.has(prop.name)) || node.isBus)
    return { access: 'read-only', reason: 'maintained by the engine' };
  if (node.path === '/machine')
    return {
      access: 'fixed',
      reason: 'machine options are set at start; change the VM’s configuration (next boot)',
    };
  return { access: 'live', reason: null };
}

async function probeSetter(qmp: QmpClientApi, path: string, property: string): Promise<string | null> {
  try {
    await qmp.qomSet({ path, property, value: PROBE_VALUE });
    return null;
  } catch (e) {
    return errorText(e);
  }
}

export async function readQomNode(qmp: QmpClientApi, path: string, ctx: NodeContext): Promise<QomNodeInfo> {
  const list = await qmp.qomList({ path });
  const typeValue = await qmp.qomGet({ path, property: 'type' }).catch(() => null);
  const type = typeof typeValue === 'string' ? typeValue : 'object';
  const isDevice = ctx.types.isA(type, 'device');
  const isBus = ctx.types.isA(type, 'bus');
  const children = list
    .filter((p) => childType(p.type))
    .map((p) => ({ name: p.name, path: joinPath(path, p.name), type: childType(p.type)! }))
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));

  const values = new Map<string, { value?: unknown; error?: string }>();
  const probes = new Map<string, string | null>();
  for (const p of list) {
    if (childType(p.type)) continue;
    try {
      values.set(p.name, { value: toWire(await qmp.qomGet({ path, property: p.name })) });
    } catch (e) {
      values.set(p.name, { error: errorText(e) });
    }
    probes.set(p.name, await probeSetter(qmp, path, p.name));
  }
  const properties: QomPropertyValue[] = list
    .filter((p) => !childType(p.type))
    .map((p) => {
      const { access, reason } = classifyProperty(p, { path, isDevice, isBus }, probes.get(p.name) ?? null);
      return {
        name: p.name,
        type: p.type,
        description: p.description ?? null,
        ...values.get(p.name),
        access,
        accessReason: reason,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));

  let device: DeviceNodeInfo | null = null;
  if (isDevice) {
    const parent = path.slice(0, path.lastIndexOf('/'));
    const id = parent === '/machine/peripheral' ? lastName(path) : null;
    const bus = values.get('parent_bus')?.value;
    const busPath = typeof bus === 'string' && bus !== '' ? bus : null;
    let busHotpluggable = false;
    if (busPath) {
      const h = await qmp.qomGet({ path: busPath, property: 'hotplug-handler' }).catch(() => null);
      busHotpluggable = typeof h === 'string' && h !== '';
    }
    const hotpluggable = values.get('hotpluggable')?.value === true;
    const label = id ? `'${id}' (${type})` : type;
    const pending = ctx.pendingRemoval.has(path);
    let reason: string | null = null;
    if (pending) reason = `Removal of ${label} was requested — waiting for the guest`;
    else if (busPath && !busHotpluggable)
      reason = `${label} is not hotpluggable: its bus '${lastName(busPath)}' does not support hotplugging`;
    else if (!hotpluggable) reason = `${label} is not hotpluggable`;
    device = {
      id,
      type,
      bus: busPath,
      busHotpluggable,
      removable: hotpluggable && !pending,
      reason,
      kept: id !== null && ctx.keptIds.has(id),
      removalPending: pending,
    };
  }
  return { path, type, children, properties, device };
}
