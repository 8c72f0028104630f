/**
 * Which device types the "Add device" dialog offers for a running machine, and for the others exactly
 * why not. QMP has no per-type facts about buses or pluggability (`qom-list-types` gives names and
 * parents only), so they are gathered from what the engine does offer:
 *
 * - candidates: `qom-list-types` implementing "device", non-abstract;
 * - the live buses: objects in the composition tree whose type derives from "bus", hotpluggable when
 *   their `hotplug-handler` link is set (QEMU's qbus_is_hotpluggable);
 * - bus type, description, user-creatable: HMP `info qdm` when the engine has it (QEMU does);
 * - the engine's own verdict, by `device_add` calls built to fail before any device is realized:
 *   1. with a bus name that cannot exist: refused as "expects a pluggable device type" (not
 *      user-creatable, or not hotpluggable once the machine runs) or as a machine rule, and otherwise
 *      stopped at "Bus '...' not found";
 *   2. (without `info qdm`) with an unknown property: the engine picks the bus it would use and fails
 *      with "No 'B' bus found", "Bus 'N' does not support hotplugging", or, when the device would go
 *      in, at the unknown property (the instance is created and dropped unrealized; QEMU does the
 *      same for any device_add with a bad property);
 *   3. (same, several hotpluggable buses) once per bus with `bus=` to list the buses it fits.
 */
import type { BusInfo, DeviceCatalog, DeviceTypeInfo } from '../api/contract.js';
import type { QmpClientApi } from '../generated/qmp-client.js';
import { parseQdm, type QdmEntry } from './qdm.js';
import { TypeHierarchy, walkQom } from './qom-walk.js';

export const PROBE_BUS = 'x-vmstudio-no-such-bus';
export const PROBE_PROPERTY = 'x-vmstudio-probe';

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Live buses of the machine, with their hotpluggability. */
export async function listBuses(qmp: QmpClientApi, types: TypeHierarchy): Promise<BusInfo[]> {
  const objects = await walkQom(qmp, '/machine');
  const buses: BusInfo[] = [];
  for (const o of objects) {
    if (!types.isA(o.type, 'bus')) continue;
    let handler: unknown = null;
    try {
      handler = await qmp.qomGet({ path: o.path, property: 'hotplug-handler' });
    } catch {
      // a bus without the link (older engines): treat as not hotpluggable
    }
    buses.push({
      path: o.path,
      name: o.name,
      type: o.type,
      hotpluggable: typeof handler === 'string' && handler !== '',
    });
  }
  return buses;
}

async function readQdm(qmp: QmpClientApi): Promise<Map<string, QdmEntry> | null> {
  try {
    const text = await qmp.humanMonitorCommand({ 'command-line': 'info qdm' });
    const map = parseQdm(text);
    return map.size ? map : null;
  } catch {
    return null;
  }
}

type ProbeResult = { ok: true } | { ok: false; message: string };

export interface CatalogOptions {
  /** Id used for the probing device_add (random, so it never clashes with a real device). */
  probeId?: string;
}

export async function buildDeviceCatalog(
  qmp: QmpClientApi,
  options: CatalogOptions = {},
): Promise<DeviceCatalog> {
  const probeId = options.probeId ?? `vmstudio-probe-${Math.random().toString(36).slice(2, 10)}`;
  const [candidates, types] = await Promise.all([
    qmp.qomListTypes({ implements: 'device', abstract: false }),
    TypeHierarchy.load(qmp),
  ]);
  const buses = await listBuses(qmp, types);
  const hotBuses = buses.filter((b) => b.hotpluggable);
  const qdm = await readQdm(qmp);

  /** A device_add that must fail; resolves ok when it failed at our probe property. */
  const probe = async (args: Record<string, string>): Promise<ProbeResult> => {
    try {
      await qmp.deviceAdd(args as { driver: string });
    } catch (e) {
      const message = errorText(e);
      return message.includes(PROBE_PROPERTY) ? { ok: true } : { ok: false, message };
    }
    // An engine that ignores unknown properties really added it: take it out again.
    if (args.id) await qmp.deviceDel({ id: args.id }).catch(() => undefined);
    return { ok: true };
  };

  const describe = async (type: string): Promise<DeviceTypeInfo> => {
    const q = qdm?.get(type) ?? null;
    const info: DeviceTypeInfo = {
      type,
      description: q?.desc ?? null,
      busType: q?.bus ?? null,
      buses: [],
      available: false,
      reason: null,
    };
    const no = (reason: string): DeviceTypeInfo => ({ ...info, reason });
    if (q && !q.userCreatable) return no(`${type} is not user-creatable`);

    // 1. Class-level pluggability and machine rules; stops at the bus lookup otherwise.
    try {
      await qmp.deviceAdd({ driver: type, bus: PROBE_BUS });
      return no(`${type}: the engine accepted a device_add meant to fail`);
    } catch (e) {
      const m = errorText(e);
      if (/expects a pluggable device type/.test(m)) {
        return no(
          q
            ? `${type} is not hotpluggable`
            : `${type} cannot be hot-plugged (not user-creatable or not hotpluggable)`,
        );
      }
      if (!m.includes(PROBE_BUS)) return no(`${type}: ${m}`);
    }

    // 2a. With the bus type known, the fitting buses follow from the tree: nothing is created.
    if (q) {
      if (!q.bus) {
        return no(`${type} does not plug into a bus, and this machine cannot hot-plug such devices`);
      }
      const fit = buses.filter((b) => types.isA(b.type, q.bus!));
      if (!fit.length) return no(`${type} needs a ${q.bus} bus: this machine has none`);
      const hot = fit.filter((b) => b.hotpluggable);
      if (!hot.length) {
        return no(`${type} is not hotpluggable here: bus '${fit[0]!.name}' does not support hotplugging`);
      }
      return { ...info, buses: hot.map((b) => b.path), available: true };
    }

    // 2b. Otherwise ask the engine where it would go.
    const r = await probe({ driver: type, id: probeId, [PROBE_PROPERTY]: 'probe' });
    if (!r.ok) {
      const noBus = /^No '([^']+)' bus found for device/.exec(r.message);
      if (noBus)
        return { ...no(`${type} needs a ${noBus[1]} bus: this machine has none free`), busType: noBus[1]! };
      const noHotplug = /^Bus '([^']+)' does not support hotplugging/.exec(r.message);
      if (noHotplug)
        return no(`${type} is not hotpluggable here: bus '${noHotplug[1]}' does not support hotplugging`);
      return no(`${type}: ${r.message}`);
    }
    // 3. Which of the hotpluggable buses take it.
    let fit = hotBuses;
    if (hotBuses.length > 1) {
      fit = [];
      for (const b of hotBuses) {
        const rb = await probe({ driver: type, id: probeId, bus: b.name, [PROBE_PROPERTY]: 'probe' });
        if (rb.ok) fit.push(b);
      }
    }
    const busType = fit.length ? (fit.every((b) => b.type === fit[0]!.type) ? fit[0]!.type : null) : null;
    return { ...info, busType, buses: fit.map((b) => b.path), available: true };
  };

  const devices: DeviceTypeInfo[] = [];
  for (const c of candidates) devices.push(await describe(c.name));
  devices.sort((a, b) => Number(b.available) - Number(a.available) || a.type.localeCompare(b.type));
  return { devices, buses, source: qdm ? 'info-qdm' : 'probe' };
}
