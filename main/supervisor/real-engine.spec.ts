/**
 * The supervisor against the real engine (bin/vmstudio-engine.js, built into dist/ by `npm run build`)
 * on QEMU's empty `none` machine: command line, QMP handshake, commands, the QOM tree, a clean stop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appPaths } from '../app/paths.js';
import { Supervisor } from './supervisor.js';
import { emptyMachineVm } from './testing/empty-machine-vm.js';

const built = fs.existsSync(path.join(appPaths.root, 'dist', 'engine', 'system', 'main.js'));
if (!built)
  console.warn('Skipping the real-engine supervisor tests: dist/engine is not built (npm run build).');

describe.skipIf(!built)('Supervisor with the real engine', () => {
  let dir: string;
  let sup: Supervisor;
  const states: string[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-real-'));
    sup = new Supervisor(
      {
        runRoot: path.join(dir, 'run'),
        engine: { command: process.execPath, prefix: [appPaths.engineScript] },
        timeouts: { connectMs: 15_000, powerdownMs: 500, killMs: 2000 },
      },
      {
        state: (_id, s) => states.push(s),
        console: () => undefined,
        qmpEvent: () => undefined,
        exited: () => undefined,
      },
    );
  });
  afterEach(async () => {
    await sup.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const vm = emptyMachineVm('real-none');

  it('starts -M none, answers QMP, lists /machine and stops without a crash', async () => {
    await sup.start(vm);
    expect(sup.status(vm.id).state).toBe('running');
    expect(await sup.execute(vm.id, 'query-status')).toMatchObject({ status: 'running', running: true });
    const props = (await sup.execute(vm.id, 'qom-list', { path: '/machine' })) as {
      name: string;
      type: string;
    }[];
    expect(props).toContainEqual(expect.objectContaining({ name: 'peripheral', type: 'child<container>' }));
    await sup.stop(vm.id);
    expect(sup.status(vm.id)).toEqual({ state: 'stopped', lastError: null });
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped']);
  });

  it("reports the engine's own error for a bad command line", async () => {
    await expect(sup.start({ ...vm, id: 'bad', devices: ['no-such-device'] })).rejects.toThrow(
      /no-such-device/,
    );
    expect(sup.status('bad').state).toBe('crashed');
  });
});
