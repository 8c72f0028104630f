/**
 * The QMP control commands (QEMU's monitor/qmp-cmds-control.c): qmp_capabilities, query-version,
 * query-commands. The typed functions are what the generated command table binds; the `raw*`
 * entries wrap them for command tables built without the generator (tests, early boot).
 */
import { type QDict, type QObject, qdict } from '../qobject/qobject.js';
import { QapiError } from '../qapi/error.js';
import type { QmpCommandEntry, QmpCommandList } from '../qapi/qmp-dispatch.js';
import { type MonitorQMP, qmpVersionInfo } from './qmp.js';

/** The monitor a command runs on (monitor_cur()); qmp_capabilities needs the QMP one. */
function qmpMonitorOf(ctx: { monitor: unknown }): MonitorQMP {
  const m = ctx.monitor as MonitorQMP | null;
  if (!m || typeof m.completeNegotiation !== 'function') {
    throw new QapiError('qmp_capabilities is only valid on a QMP monitor');
  }
  return m;
}

/** qmp_capabilities: leave negotiation mode, enabling the listed capabilities. */
export function qmpCapabilities(enable: readonly string[] | undefined, ctx: { monitor: unknown }): void {
  qmpMonitorOf(ctx).completeNegotiation(enable ?? []);
}

/** query-version. */
export function qmpQueryVersion(): QDict {
  return qmpVersionInfo();
}

/** query-commands: the enabled commands of the calling monitor's current table, newest-first as QEMU. */
export function qmpQueryCommands(
  ctx: { monitor: unknown },
  fallback?: QmpCommandList,
): Array<{ name: string }> {
  const m = ctx.monitor as MonitorQMP | null;
  const table = m && 'commands' in m ? m.commands : (fallback ?? new Map());
  const out: Array<{ name: string }> = [];
  for (const cmd of table.values()) if (cmd.enabled) out.unshift({ name: cmd.name });
  return out;
}

const negotiationCache = new WeakMap<QmpCommandList, QmpCommandList>();

/**
 * The table used before negotiation (qmp_cap_negotiation_commands): only qmp_capabilities, taken
 * from the full table when it has one (so its generated argument checking applies).
 */
export function negotiationCommands(full: QmpCommandList): QmpCommandList {
  let t = negotiationCache.get(full);
  if (!t) {
    t = new Map([['qmp_capabilities', full.get('qmp_capabilities') ?? rawQmpCapabilities]]);
    negotiationCache.set(full, t);
  }
  return t;
}

function checkNoArgs(args: QDict, allowed: readonly string[]): void {
  for (const k of Object.keys(args)) {
    if (!allowed.includes(k)) throw new QapiError(`Parameter '${k}' is unexpected`);
  }
}

const PRECONFIG = { allowOob: false, allowPreconfig: true, coroutine: false };

/** qmp_capabilities with QEMU's input-visitor checks, for tables without generated marshalling. */
export const rawQmpCapabilities: QmpCommandEntry = {
  name: 'qmp_capabilities',
  options: PRECONFIG,
  features: [],
  enabled: true,
  fn(args, ctx) {
    checkNoArgs(args, ['enable']);
    const enable = args['enable'];
    let caps: string[] | undefined;
    if (enable !== undefined) {
      if (!Array.isArray(enable)) throw new QapiError("Invalid parameter type for 'enable', expected: array");
      caps = enable.map((v: QObject, i) => {
        if (typeof v !== 'string') {
          throw new QapiError(`Invalid parameter type for 'enable[${i}]', expected: string`);
        }
        if (v !== 'oob') throw new QapiError(`Parameter 'enable[${i}]' does not accept value '${v}'`);
        return v;
      });
    }
    qmpCapabilities(caps, ctx);
    return qdict();
  },
};

export const rawQueryVersion: QmpCommandEntry = {
  name: 'query-version',
  options: PRECONFIG,
  features: [],
  enabled: true,
  fn(args) {
    checkNoArgs(args, []);
    return qmpQueryVersion();
  },
};

export const rawQueryCommands: QmpCommandEntry = {
  name: 'query-commands',
  options: PRECONFIG,
  features: [],
  enabled: true,
  fn(args, ctx) {
    checkNoArgs(args, []);
    return qmpQueryCommands(ctx).map((c) => qdict({ name: c.name }));
  },
};

export const rawControlCommands: readonly QmpCommandEntry[] = [
  rawQmpCapabilities,
  rawQueryVersion,
  rawQueryCommands,
];
