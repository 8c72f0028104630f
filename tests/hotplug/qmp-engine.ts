/**
 * The engine in-process with a real QMP monitor on a Unix socket: qemuInit with `-qmp`, the engine's
 * command table and DEVICE_DELETED wiring as main.ts does it, and a QMP test client already past
 * negotiation. Device-level tests use it to drive a machine over QMP while a fake virtio driver
 * looks at the device side.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import '../../engine/system/modules.js';
import { qemuInit } from '../../engine/system/vl.js';
import { engineCommandTable } from '../../engine/system/qmp-commands.js';
import {
  monitorList,
  qapiEventEmit,
  resetEventThrottling,
  setQmpCommands,
} from '../../engine/monitor/monitor.js';
import type { MonitorQMP } from '../../engine/monitor/qmp.js';
import { resetMonitorDeviceIndex } from '../../engine/monitor/monitor-opts.js';
import { qomResetRoot } from '../../engine/qom/object.js';
import { runstateResetForTests } from '../../engine/system/runstate.js';
import { romsClear } from '../../engine/hw/core/loader.js';
import { chardevDeleteAll } from '../../engine/chardev/char-registry.js';
import { onDeviceDeleted } from '../../engine/hw/core/qdev-core.js';
import { QapiEvents } from '../../engine/qapi/generated/qapi-events.js';
import { QmpTestClient, type Json } from '../qmp/qmp-test-client.js';

export interface QmpEngine {
  qmp: QmpTestClient;
  /** Run a command that must succeed; returns its "return". */
  ok(cmd: string, args?: { [k: string]: Json }): Promise<Json>;
  /** Run a command that must fail; returns its "error". */
  fails(cmd: string, args?: { [k: string]: Json }): Promise<Json>;
  /** Disconnect, drop monitors and chardevs, reset QOM. */
  close(): Promise<void>;
}

/** Start the engine in this process with `args` plus a QMP monitor, and connect to it. */
export async function startQmpEngine(args: string[]): Promise<QmpEngine> {
  qomResetRoot();
  runstateResetForTests();
  romsClear();
  resetEventThrottling();
  resetMonitorDeviceIndex();
  await chardevDeleteAll();
  setQmpCommands(engineCommandTable());
  const events = new QapiEvents(qapiEventEmit);
  const offDeleted = onDeviceDeleted((ev) =>
    events.deviceDeleted(ev.device === undefined ? { path: ev.path } : ev),
  );
  const dir = mkdtempSync(join(tmpdir(), 'vmstudio-qmpeng-'));
  const qmpPath = join(dir, 'qmp.sock');
  const r = await qemuInit([...args, '-qmp', `unix:${qmpPath},server=on,wait=off`], {
    out: () => undefined,
    err: () => undefined,
  });
  expect(r.kind).toBe('running');
  const qmp = await QmpTestClient.connect({ path: qmpPath });
  await qmp.negotiate();
  return {
    qmp,
    async ok(cmd, a) {
      const reply = await qmp.execute(cmd, a);
      expect(reply['error'], `${cmd}: ${JSON.stringify(reply['error'])}`).toBeUndefined();
      return reply['return']!;
    },
    async fails(cmd, a) {
      const reply = await qmp.execute(cmd, a);
      expect(reply['return'], `${cmd} should fail`).toBeUndefined();
      return reply['error']!;
    },
    async close() {
      qmp.socket.destroy();
      offDeleted();
      for (const m of [...monitorList()]) (m as MonitorQMP).destroy();
      await chardevDeleteAll();
      qomResetRoot();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A test file's `virt` engine without firmware or serial (-S, modern virtio-mmio) plus `devices`,
 * closed after each test. Device-level tests drive the devices with fake drivers, no guest.
 */
export function useVirtDeviceEngine(): (devices: string[]) => Promise<QmpEngine> {
  let eng: QmpEngine | null = null;
  afterEach(async () => {
    await eng?.close();
    eng = null;
  });
  return async (devices) => {
    const args = ['-M', 'virt', '-S', '-bios', 'none', '-display', 'none', '-serial', 'none'];
    args.push('-global', 'virtio-mmio.force-legacy=false');
    for (const d of devices) args.push('-device', d);
    eng = await startQmpEngine(args);
    return eng;
  };
}
