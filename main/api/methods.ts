/**
 * The fixed list of request methods (and so of IPC channels). Main dispatches only these names; the
 * type assertions below make the build fail if the list and the `VmStudioApi` interface drift apart.
 */
import type { ApiMethod } from './contract.js';

export const API_METHODS = [
  'app.info',
  'files.list',
  'guests.list',
  'vms.list',
  'vms.get',
  'vms.create',
  'vms.update',
  'vms.delete',
  'vms.start',
  'vms.stop',
  'vms.pause',
  'vms.resume',
  'vms.reset',
  'disks.add',
  'disks.remove',
  'console.write',
  'console.history',
  'qmp.execute',
  'qmp.schema',
  'devices.catalog',
  'devices.properties',
  'devices.add',
  'devices.remove',
  'qom.node',
  'qom.set',
  'snapshots.list',
  'snapshots.overview',
  'snapshots.take',
  'snapshots.planRevert',
  'snapshots.revert',
  'snapshots.delete',
  'snapshots.rename',
  'stats.history',
  'log.list',
] as const satisfies readonly ApiMethod[];

type Listed = (typeof API_METHODS)[number];
/** Compile-time check: every ApiMethod is listed (this alias fails to resolve to `true` otherwise). */
type Missing = Exclude<ApiMethod, Listed>;
const _exhaustive: [Missing] extends [never] ? true : Missing = true;
void _exhaustive;

const METHOD_SET: ReadonlySet<string> = new Set(API_METHODS);

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && METHOD_SET.has(name);
}

export const IPC_EVENT_CHANNEL = 'vmstudio:event';

export function ipcChannel(method: ApiMethod): `vmstudio:${ApiMethod}` {
  return `vmstudio:${method}`;
}
