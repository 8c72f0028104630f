/**
 * The preload bridge: exposes `window.vmstudio` (the VmStudioApi) to the sandboxed renderer and
 * nothing else: no ipcRenderer, no Node. Sandboxed preloads are plain CommonJS scripts that may
 * require only 'electron', so this file is self-contained and keeps its own copy of main's method list
 * (main/api/methods.ts; the renderer imports that one). The copy cannot drift: the compiler checks it
 * against the contract both ways (`satisfies` for unknown names, `_exhaustive` for missing ones) and
 * preload.spec.ts checks it against main's list.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { ApiEventMap, ApiEventName, ApiMethod, VmStudioApi } from '../main/api/contract.js';

type Reply = { ok: true; result: unknown } | { ok: false; error: { errorClass: string; message: string } };

const METHODS = [
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

/** Compile-time check: every ApiMethod is listed (this alias fails to resolve to `true` otherwise). */
type Missing = Exclude<ApiMethod, (typeof METHODS)[number]>;
const _exhaustive: [Missing] extends [never] ? true : Missing = true;
void _exhaustive;

const EVENT_CHANNEL = 'vmstudio:event';

/** An Error the renderer can inspect like the web transport's: message plus QEMU error class. */
class ApiError extends Error {
  errorClass: string;
  constructor(errorClass: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.errorClass = errorClass;
  }
}

async function invoke(method: ApiMethod, params: unknown[]): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(`vmstudio:${method}`, ...params)) as Reply;
  if (reply.ok) return reply.result;
  throw new ApiError(reply.error.errorClass, reply.error.message);
}

type Listener = (payload: unknown) => void;
const listeners = new Map<string, Set<Listener>>();
ipcRenderer.on(EVENT_CHANNEL, (_event, name: string, payload: unknown) => {
  for (const l of listeners.get(name) ?? []) l(payload);
});

function buildApi(): VmStudioApi {
  const api: Record<string, unknown> = {};
  for (const method of METHODS) {
    const [group, name] = method.split('.') as [string, string];
    const g = (api[group] ??= {}) as Record<string, unknown>;
    g[name] = (...params: unknown[]) => invoke(method, params);
  }
  api.on = <E extends ApiEventName>(event: E, listener: (payload: ApiEventMap[E]) => void): (() => void) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const l = listener as Listener;
    set.add(l);
    return () => set.delete(l);
  };
  return api as unknown as VmStudioApi;
}

contextBridge.exposeInMainWorld('vmstudio', buildApi());
