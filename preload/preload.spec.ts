/**
 * Runs the real preload source the way Electron's sandbox does (a CommonJS function whose `require`
 * only knows 'electron') against fake contextBridge/ipcRenderer objects.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { VmStudioApi } from '../main/api/contract.js';
import { API_METHODS } from '../main/api/methods.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function loadPreload() {
  const source = fs.readFileSync(path.join(here, 'preload.cts'), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const exposed: Record<string, unknown> = {};
  const invoked: { channel: string; args: unknown[] }[] = [];
  let eventHandler: ((e: unknown, name: string, payload: unknown) => void) | null = null;
  const replies = new Map<string, unknown>();
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        invoked.push({ channel, args });
        return replies.get(channel) ?? { ok: true, result: null };
      },
      on: (channel: string, h: typeof eventHandler) => {
        expect(channel).toBe('vmstudio:event');
        eventHandler = h;
      },
    },
  };
  const requireFn = (id: string) => {
    if (id !== 'electron') throw new Error(`module not found: ${id}`);
    return electron;
  };
  const module = { exports: {} };
  vm.runInNewContext(`(function (require, module, exports) {${js}\n})`, {})(
    requireFn,
    module,
    module.exports,
  );
  return {
    api: exposed.vmstudio as VmStudioApi,
    invoked,
    replies,
    emit: (n: string, p: unknown) => eventHandler!(null, n, p),
  };
}

describe('preload bridge', () => {
  it('exposes exactly the contract methods, each on its own vmstudio:<method> channel', async () => {
    const { api, invoked } = loadPreload();
    for (const method of API_METHODS) {
      const [group, name] = method.split('.') as [keyof VmStudioApi, string];
      expect(typeof (api[group] as unknown as Record<string, unknown>)[name]).toBe('function');
    }
    const groups = Object.keys(api).filter((k) => k !== 'on');
    const exposedMethods = groups.flatMap((g) => Object.keys((api as any)[g]).map((n) => `${g}.${n}`));
    expect(exposedMethods.sort()).toEqual([...API_METHODS].sort());
    await api.vms.stop('vm-1', true);
    expect(invoked).toEqual([{ channel: 'vmstudio:vms.stop', args: ['vm-1', true] }]);
  });

  it('unwraps replies and rethrows errors with their QEMU error class', async () => {
    const { api, replies } = loadPreload();
    replies.set('vmstudio:vms.list', { ok: true, result: [{ id: 'a' }] });
    expect(await api.vms.list()).toEqual([{ id: 'a' }]);
    replies.set('vmstudio:qmp.execute', {
      ok: false,
      error: { errorClass: 'CommandNotFound', message: 'The command x has not been found' },
    });
    await expect(api.qmp.execute('vm', 'x')).rejects.toMatchObject({
      errorClass: 'CommandNotFound',
      message: 'The command x has not been found',
    });
  });

  it('delivers pushed events to subscribers until they unsubscribe', () => {
    const { api, emit } = loadPreload();
    const seen: unknown[] = [];
    const off = api.on('vm-state', (p) => seen.push(p));
    emit('vm-state', { vmId: 'a', state: 'running', lastError: null });
    emit('console-output', { vmId: 'a', data: 'x' });
    off();
    emit('vm-state', { vmId: 'a', state: 'stopped', lastError: null });
    expect(seen).toEqual([{ vmId: 'a', state: 'running', lastError: null }]);
  });
});
