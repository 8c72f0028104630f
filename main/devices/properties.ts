/**
 * The "Add device" form of a type, from `device-list-properties`: each property's QOM type becomes a
 * kind the renderer has an input for (bool, int with its range, size, str, enum, link), defaults
 * and descriptions pass through, enum values come from the property's description (qdev enum
 * properties describe themselves as "on/off/auto") and link targets from the live QOM tree.
 */
import { RESERVED_CHARDEV_ID, type DevicePropertySpec, type PropertyKind } from '../api/contract.js';
import type { QmpClientApi } from '../generated/qmp-client.js';
import type { ObjectPropertyInfo } from '../generated/qmp-client-types.js';
import { toWire } from '../api/wire.js';
import { walkQom } from './qom-walk.js';

/** Integer property types and their ranges (QEMU's visitor types). */
export const INT_RANGES: Record<string, [bigint, bigint]> = {
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 4294967295n],
  uint64: [0n, 18446744073709551615n],
  uint: [0n, 18446744073709551615n],
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-9223372036854775808n, 9223372036854775807n],
  int: [-9223372036854775808n, 9223372036854775807n],
};

const LINK = /^link<(.+)>$/;
/**
 * qdev's backend properties report type "str"; their descriptions (qdev-properties-system.c) say
 * what they name.
 */
const BACKEND_DESCRIPTIONS: Record<string, 'block' | 'chardev'> = {
  'Node name or ID of a block device to use as a backend': 'block',
  'ID of a chardev to use as a backend': 'chardev',
};
/** "on/off/auto": a qdev enum property's own description of its values. */
const ENUM_DESCRIPTION = /^[A-Za-z0-9_.+-]+(\/[A-Za-z0-9_.+-]+)+$/;

export function propertyKind(p: { type: string; description?: string }): PropertyKind {
  const t = p.type;
  if (t === 'bool') return 'bool';
  if (t in INT_RANGES) return 'int';
  if (t === 'size') return 'size';
  if (t === 'str' && p.description && BACKEND_DESCRIPTIONS[p.description]) return 'backend';
  if (t === 'str' || t === 'string') return 'str';
  if (LINK.test(t)) return 'link';
  if (p.description && ENUM_DESCRIPTION.test(p.description)) return 'enum';
  return 'other';
}

/**
 * Block devices and chardevs a new device could use: block backends no device is attached to
 * (query-block without `qdev`), and every chardev but the monitors' and the console's (query-chardev).
 */
async function backendCandidates(
  qmp: QmpClientApi,
  kind: 'block' | 'chardev',
): Promise<Array<{ value: string; label: string }>> {
  if (kind === 'block') {
    return (await qmp.queryBlock())
      .filter((b) => !b.qdev && b.inserted)
      .map((b) => {
        const value = b.device || b.inserted!['node-name'] || '';
        return { value, label: `${value} (${b.inserted!.drv}, ${b.inserted!.file})` };
      })
      .filter((c) => c.value !== '');
  }
  // The monitors' and the serial console's chardevs always have their frontend (the engine would
  // refuse them as "in use").
  return (await qmp.queryChardev())
    .filter((c) => !RESERVED_CHARDEV_ID.test(c.label))
    .map((c) => ({ value: c.label, label: `${c.label} (${c.filename})` }));
}

/** Objects in the tree (user objects under /objects, then the machine) whose type implements `base`. */
async function linkCandidates(qmp: QmpClientApi, base: string): Promise<string[]> {
  const impl = new Set((await qmp.qomListTypes({ implements: base, abstract: true })).map((t) => t.name));
  impl.add(base);
  const out: string[] = [];
  for (const root of ['/objects', '/machine']) {
    const objs = await walkQom(qmp, root).catch(() => []);
    for (const o of objs) if (impl.has(o.type)) out.push(o.path);
  }
  return out;
}

export function specOf(p: ObjectPropertyInfo): DevicePropertySpec {
  const kind = propertyKind({ type: p.type, ...(p.description ? { description: p.description } : {}) });
  const spec: DevicePropertySpec = { name: p.name, type: p.type, kind, description: p.description ?? null };
  if (p['default-value'] !== undefined) spec.defaultValue = toWire(p['default-value']);
  if (kind === 'int') {
    const [min, max] = INT_RANGES[p.type]!;
    spec.min = min.toString();
    spec.max = max.toString();
  }
  if (kind === 'enum') spec.enumValues = p.description!.split('/');
  if (kind === 'link') spec.linkType = LINK.exec(p.type)![1]!;
  if (kind === 'backend') spec.backend = BACKEND_DESCRIPTIONS[p.description!]!;
  return spec;
}

export async function describeDeviceProperties(
  qmp: QmpClientApi,
  type: string,
): Promise<DevicePropertySpec[]> {
  const props = await qmp.deviceListProperties({ typename: type });
  const specs = props.map(specOf);
  const cache = new Map<string, string[]>();
  for (const s of specs) {
    if (s.kind === 'backend') s.backendCandidates = await backendCandidates(qmp, s.backend!).catch(() => []);
    if (s.kind !== 'link') continue;
    const t = s.linkType!;
    if (!cache.has(t)) cache.set(t, await linkCandidates(qmp, t).catch(() => []));
    s.linkCandidates = cache.get(t)!;
  }
  return specs;
}
