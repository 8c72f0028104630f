import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Vm, VmState } from '../api/contract.js';
import type { QmpEvent } from '../qmp/client.js';
import { buildEngineArgs } from './cmdline.js';
import { isAlive, runPaths, writeRecord } from './run-dir.js';
import { Supervisor, type SupervisorListener } from './supervisor.js';
import { emptyMachineVm } from './testing/empty-machine-vm.js';
import { FAKE_ENGINE } from './testing/fake-engine.js';
import { until } from '../../tests/helpers/until.js';

let dir: string;
let sup: Supervisor;
let events: { states: [string, VmState, string | null][]; console: string; qmp: QmpEvent[] };

function vm(name = 'test vm', over: Partial<Vm> = {}): Vm {
  return emptyMachineVm(`vm-${Math.random().toString(16).slice(2, 10)}`, { name, ...over });
}

function makeSupervisor(env: NodeJS.ProcessEnv = {}, timeouts = {}): Supervisor {
  const listener: SupervisorListener = {
    state: (id, s, err) => events.states.push([id, s, err]),
    console: (_id, d) => (events.console += d),
    qmpEvent: (_id, e) => events.qmp.push(e),
    exited: () => undefined,
  };
  return new Supervisor(
    {
      runRoot: path.join(dir, 'run'),
      engine: { command: process.execPath, prefix: [FAKE_ENGINE], env: { ...process.env, ...env } },
      timeouts: { connectMs: 5000, powerdownMs: 2000, killMs: 300, ...timeouts },
    },
    listener,
  );
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-sup-'));
  events = { states: [], console: '', qmp: [] };
  sup = makeSupervisor();
});
afterEach(async () => {
  sup.killAllSync();
  await sup.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Supervisor', () => {
  it('starts an engine, connects QMP and drives pause/resume/reset', async () => {
    const v = vm();
    await sup.start(v);
    expect(sup.status(v.id).state).toBe('running');
    await sup.pause(v.id);
    await until(() => sup.status(v.id).state === 'paused');
    await sup.resume(v.id);
    await until(() => sup.status(v.id).state === 'running');
    await sup.reset(v.id);
    await until(() => events.qmp.some((e) => e.event === 'RESET'));
    expect(events.qmp.map((e) => e.event)).toEqual(['STOP', 'RESUME', 'RESET']);
    expect(await sup.execute(v.id, 'query-name')).toEqual({ name: 'test vm' });
  });

  it('streams the serial console both ways and keeps history', async () => {
    const v = vm();
    await sup.start(v);
    await until(() => events.console.includes('login: '));
    sup.writeConsole(v.id, 'root\r');
    await until(() => events.console.includes('root\r\n'));
    expect(sup.consoleHistory(v.id)).toContain('Booting test vm...');
  });

  it('stops gracefully with the power button and records a clean stop', async () => {
    const v = vm('test vm', { machine: 'x-board-with-power-button' });
    await sup.start(v);
    await sup.stop(v.id);
    expect(sup.status(v.id)).toEqual({ state: 'stopped', lastError: null });
    expect(events.qmp.map((e) => e.event)).toContain('POWERDOWN');
    expect(fs.existsSync(runPaths(path.join(dir, 'run'), v.id).record)).toBe(false);
  });

  it('falls back to quit when the guest ignores the power button', async () => {
    sup = makeSupervisor({ FAKE_ENGINE_IGNORE_POWERDOWN: '1' }, { powerdownMs: 200 });
    const v = vm('test vm', { machine: 'x-board-with-power-button' });
    await sup.start(v);
    await sup.stop(v.id);
    expect(sup.status(v.id).state).toBe('stopped');
    expect(events.qmp.map((e) => e.event)).toEqual(['POWERDOWN', 'SHUTDOWN']);
  });

  it('quits boards without a power button at once', async () => {
    sup = makeSupervisor({}, { powerdownMs: 60_000 });
    const v = vm();
    await sup.start(v);
    await sup.stop(v.id);
    expect(sup.status(v.id).state).toBe('stopped');
    expect(events.qmp.map((e) => e.event)).not.toContain('POWERDOWN');
  });

  it("reports a crash with the engine's last output", async () => {
    sup = makeSupervisor({ FAKE_ENGINE_CRASH_ON: 'query-name' });
    const v = vm();
    await sup.start(v);
    await expect(sup.execute(v.id, 'query-name')).rejects.toThrow(/QMP connection closed/);
    await until(() => sup.status(v.id).state === 'crashed');
    const { lastError } = sup.status(v.id);
    expect(lastError).toMatch(/^vmstudio-engine was killed by signal SIGABRT:/);
    expect(lastError).toContain("assertion failed while running 'query-name'");
    expect(events.states.at(-1)).toEqual([v.id, 'crashed', lastError]);
    await expect(sup.pause(v.id)).rejects.toThrow("VM 'test vm' is crashed");
  });

  it("rejects start with the engine's error when it fails at startup", async () => {
    sup = makeSupervisor({ FAKE_ENGINE_FAIL_START: "-device foo: 'foo' is not a valid device model name" });
    const v = vm();
    await expect(sup.start(v)).rejects.toThrow(/'foo' is not a valid device model name/);
    expect(sup.status(v.id).state).toBe('crashed');
    expect(sup.activeVmIds()).toEqual([]);
  });

  it('reports a crash, not a stop, when the engine fails just after opening QMP', async () => {
    sup = makeSupervisor(
      {
        FAKE_ENGINE_FAIL_AFTER_QMP:
          "-device no-such-device: 'no-such-device' is not a valid device model name",
      },
      { killMs: 2000 },
    );
    const v = vm();
    await expect(sup.start(v)).rejects.toThrow(
      /^vmstudio-engine exited with code 1:\n.*'no-such-device' is not a valid/s,
    );
    expect(sup.status(v.id).state).toBe('crashed');
    expect(sup.status(v.id).lastError).toMatch(/'no-such-device' is not a valid device model name/);
    expect(sup.activeVmIds()).toEqual([]);
  });

  it('kills an engine whose QMP never answers and reports the failed start as a crash', async () => {
    sup = makeSupervisor({ FAKE_ENGINE_SILENT_QMP: '1' }, { connectMs: 500, killMs: 200 });
    const v = vm();
    await expect(sup.start(v)).rejects.toThrow(/^vmstudio-engine did not start: QMP handshake timed out/);
    expect(sup.status(v.id).state).toBe('crashed');
    expect(sup.activeVmIds()).toEqual([]);
  });

  it('stops every engine on shutdown, escalating to SIGKILL, and refuses new starts', async () => {
    sup = makeSupervisor(
      { FAKE_ENGINE_IGNORE_POWERDOWN: '1', FAKE_ENGINE_IGNORE_TERM: '1', FAKE_ENGINE_CRASH_ON: 'quit' },
      { powerdownMs: 100, killMs: 200 },
    );
    const a = vm('a');
    const b = vm('b');
    await sup.start(a);
    await sup.start(b);
    const pids = sup.activeVmIds().length;
    expect(pids).toBe(2);
    await sup.shutdown();
    expect(sup.activeVmIds()).toEqual([]);
    expect(sup.status(a.id).state).not.toBe('running');
    await expect(sup.start(vm('c'))).rejects.toThrow(/shutting down/);
  });

  it('cleans up an engine left running by a previous VM Studio', async () => {
    const runRoot = path.join(dir, 'run');
    const v = vm('leftover');
    const paths = runPaths(runRoot, v.id);
    fs.mkdirSync(paths.dir, { recursive: true });
    // Simulate a VM Studio that died: an engine nobody supervises, plus its record.
    const orphan = spawn(
      process.execPath,
      [FAKE_ENGINE, ...buildEngineArgs(v, { qmpSocket: paths.qmpSocket })],
      {
        stdio: 'ignore',
        detached: true,
      },
    );
    writeRecord(paths, { pid: orphan.pid!, vmId: v.id, qmpSocket: paths.qmpSocket, startedAt: 0 });
    await until(() => fs.existsSync(paths.qmpSocket));
    const exited = new Promise((r) => orphan.once('exit', r));
    expect(await Supervisor.cleanupOrphans(runRoot, 2000)).toEqual([v.id]);
    await exited;
    expect(isAlive(orphan.pid!)).toBe(false);
    expect(fs.existsSync(paths.record)).toBe(false);
  });

  it('kills a leftover engine that does not answer QMP, verified by its command line', async () => {
    const runRoot = path.join(dir, 'run');
    const v = vm('hung');
    const paths = runPaths(runRoot, v.id);
    fs.mkdirSync(paths.dir, { recursive: true });
    // A process whose command line names the socket but which never listens on it.
    const orphan = spawn(
      process.execPath,
      ['-e', 'setInterval(() => {}, 1000)', '--', '-qmp', `unix:${paths.qmpSocket}`],
      {
        stdio: 'ignore',
      },
    );
    writeRecord(paths, { pid: orphan.pid!, vmId: v.id, qmpSocket: paths.qmpSocket, startedAt: 0 });
    const exited = new Promise((r) => orphan.once('exit', r));
    await Supervisor.cleanupOrphans(runRoot, 200);
    await exited;
    expect(isAlive(orphan.pid!)).toBe(false);
  });

  it('leaves alone an unrelated process that reuses a recorded pid', async () => {
    const runRoot = path.join(dir, 'run');
    const paths = runPaths(runRoot, 'vm-x');
    const bystander = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeRecord(paths, { pid: bystander.pid!, vmId: 'vm-x', qmpSocket: paths.qmpSocket, startedAt: 0 });
      await Supervisor.cleanupOrphans(runRoot, 100);
      expect(isAlive(bystander.pid!)).toBe(true);
      expect(fs.existsSync(paths.record)).toBe(false);
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
