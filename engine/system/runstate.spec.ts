import { afterEach, describe, expect, it } from 'vitest';
import type { QDict } from '../qobject/qobject.js';
import {
  addVmChangeStateHandler,
  qmpCont,
  qmpQueryStatus,
  qmpQuit,
  qmpStop,
  qmpSystemReset,
  runstateGet,
  runstateIsValidTransition,
  runstateResetForTests,
  runstateSet,
  setRunStateEventHook,
  setRunStateHooks,
  vmStart,
} from './runstate.js';

const events: Array<[string, QDict | undefined]> = [];

afterEach(() => {
  runstateResetForTests();
  events.length = 0;
});

function capture(): void {
  setRunStateEventHook((e, d) => events.push([e, d]));
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('runstate', () => {
  it('starts in prelaunch and follows QEMU transitions only', () => {
    expect(runstateGet()).toBe('prelaunch');
    expect(runstateIsValidTransition('prelaunch', 'running')).toBe(true);
    expect(runstateIsValidTransition('prelaunch', 'paused')).toBe(false);
    expect(runstateIsValidTransition('shutdown', 'running')).toBe(false);
    expect(() => runstateSet('paused')).toThrow("invalid runstate transition: 'prelaunch' -> 'paused'");
    runstateSet('running');
    runstateSet('paused');
    expect(runstateGet()).toBe('paused');
  });

  it('cont/stop emit RESUME/STOP once and report status', () => {
    capture();
    const seen: Array<[boolean, string]> = [];
    addVmChangeStateHandler((running, state) => seen.push([running, state]));
    expect(qmpQueryStatus()).toEqual({ running: false, singlestep: false, status: 'prelaunch' });
    qmpStop(); // not running: nothing happens
    expect(events).toEqual([]);
    qmpCont();
    qmpCont(); // already running: no second RESUME
    expect(qmpQueryStatus()).toEqual({ running: true, singlestep: false, status: 'running' });
    qmpStop();
    expect(runstateGet()).toBe('paused');
    expect(events.map((e) => e[0])).toEqual(['RESUME', 'STOP']);
    expect(seen).toEqual([
      [true, 'running'],
      [false, 'paused'],
    ]);
  });

  it('refuses cont when a reset is needed', () => {
    vmStart();
    runstateSet('shutdown');
    expect(() => qmpCont()).toThrow('Resetting the Virtual Machine is required');
  });

  it('quit emits SHUTDOWN from the main loop and asks to exit', async () => {
    capture();
    const exits: string[] = [];
    setRunStateHooks({ exit: (c) => exits.push(c) });
    qmpQuit();
    expect(events).toEqual([]);
    await tick();
    expect(events).toEqual([['SHUTDOWN', { guest: false, reason: 'host-qmp-quit' }]]);
    expect(exits).toEqual(['host-qmp-quit']);
  });

  it('system_reset resets the machine, emits RESET and returns a stopped VM to prelaunch', async () => {
    capture();
    const resets: string[] = [];
    setRunStateHooks({ machineReset: (c) => resets.push(c) });
    vmStart();
    runstateSet('paused');
    qmpSystemReset();
    await tick();
    expect(resets).toEqual(['host-qmp-system-reset']);
    expect(events.at(-1)).toEqual(['RESET', { guest: false, reason: 'host-qmp-system-reset' }]);
    expect(runstateGet()).toBe('prelaunch');
  });
});
