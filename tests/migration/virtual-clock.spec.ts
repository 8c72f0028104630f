/**
 * The process's one virtual clock (QEMU_CLOCK_VIRTUAL): it runs only while the VM runs, its value is
 * what the "timer" section carries (QEMU's layout: cpu_ticks_offset, 8 unused bytes,
 * cpu_clock_offset), and a loaded value is where it continues from.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { runstateResetForTests, vmStart, vmStop } from '../../engine/system/runstate.js';
import {
  timersState,
  virtualClock,
  virtualClockFollowRunState,
  vmstateTimers,
} from '../../engine/system/virtual-clock.js';
import { vmstateLoadFromBytes, vmstateSaveToBytes } from '../../engine/migration/vmstate.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(() => {
  runstateResetForTests();
  virtualClock.reset();
  virtualClockFollowRunState();
});

describe('virtual clock', () => {
  it('starts at 0, runs while the VM runs and stands still while it is stopped', async () => {
    expect(virtualClock.ns()).toBe(0);
    await sleep(20);
    expect(virtualClock.ns()).toBe(0);
    vmStart();
    await sleep(30);
    const t1 = virtualClock.ns();
    expect(t1).toBeGreaterThanOrEqual(25e6);
    expect(Number.isInteger(t1)).toBe(true);
    vmStop('paused');
    const stopped = virtualClock.ns();
    expect(stopped).toBeGreaterThanOrEqual(t1);
    await sleep(30);
    expect(virtualClock.ns()).toBe(stopped);
    expect(virtualClock.hostMsAt(stopped + 1e6)).toBe(Infinity);
    vmStart();
    const resumed = virtualClock.ns();
    expect(resumed - stopped).toBeLessThan(5e6); // no jump over the pause
    const due = virtualClock.hostMsAt(resumed + 50e6) - performance.now();
    expect(due).toBeGreaterThan(40);
    expect(due).toBeLessThanOrEqual(50);
    vmStop('paused');
  });

  it('migrates its value in the "timer" section and continues from it', async () => {
    virtualClock.set(123_456_789_012);
    const bytes = vmstateSaveToBytes(vmstateTimers, timersState);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(bytes.length).toBe(24);
    expect(view.getBigInt64(0)).toBe(123_456_789_012n);
    expect([...bytes.subarray(8, 16)]).toEqual(new Array(8).fill(0));
    expect(view.getBigInt64(16)).toBe(123_456_789_012n);

    // A fresh process (clock at 0) loads the section: the clock is the saved one, still stopped.
    virtualClock.reset();
    vmstateLoadFromBytes(vmstateTimers, timersState, bytes);
    expect(virtualClock.ns()).toBe(123_456_789_012);
    vmStart();
    await sleep(20);
    const t = virtualClock.ns() - 123_456_789_012;
    expect(t).toBeGreaterThanOrEqual(15e6);
    expect(t).toBeLessThan(10e9);
    vmStop('paused');

    // A load into a running clock moves it there and keeps it running.
    vmStart();
    vmstateLoadFromBytes(vmstateTimers, timersState, bytes);
    expect(virtualClock.isRunning).toBe(true);
    expect(virtualClock.ns() - 123_456_789_012).toBeLessThan(5e6);
    vmStop('paused');
  });
});
