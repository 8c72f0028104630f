/**
 * Test fixtures: a QMP command table with commands that exercise the protocol (echo, slow async,
 * out-of-band, throwing, event-emitting, gated) and helpers to start real servers on chardevs.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { type QDict, qdict } from '../../engine/qobject/qobject.js';
import { QapiError } from '../../engine/qapi/error.js';
import type { QmpCommandEntry, QmpCommandList } from '../../engine/qapi/qmp-dispatch.js';
import { rawControlCommands } from '../../engine/monitor/qmp-cmds-control.js';
import { qapiEventEmit } from '../../engine/monitor/monitor.js';
import { chrParseCompat } from '../../engine/chardev/char-opts.js';
import { qemuChrNewFromOpts } from '../../engine/chardev/char-registry.js';
import type { Chardev } from '../../engine/chardev/char.js';
import { MonitorQMP, type MonitorQmpOptions } from '../../engine/monitor/qmp.js';
import type { SocketChardev } from '../../engine/chardev/char-socket.js';

const opts = { allowOob: false, allowPreconfig: false, coroutine: false };

function cmd(name: string, fn: QmpCommandEntry['fn'], extra: Partial<QmpCommandEntry> = {}): QmpCommandEntry {
  return { name, fn, options: opts, features: [], enabled: true, ...extra };
}

/** A gate `block` commands wait on until the test opens it. */
export class Gate {
  private open = false;
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return this.open ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
  /** How many `block` commands are held at the gate right now. */
  get waiting(): number {
    return this.waiters.length;
  }
  release(): void {
    this.open = true;
    for (const w of this.waiters.splice(0)) w();
  }
  reset(): void {
    this.open = false;
  }
}

export const gate = new Gate();

export function testCommands(): QmpCommandList {
  const list: QmpCommandEntry[] = [
    ...rawControlCommands,
    cmd('echo', (args) => args),
    cmd('slow', async (args) => {
      await new Promise((r) => setTimeout(r, Number(args['ms'] ?? 100)));
      return qdict({ slept: args['ms'] ?? 100 });
    }),
    cmd('block', async (args) => {
      await gate.wait();
      return qdict({ n: args['n'] ?? null });
    }),
    cmd('oob-ping', (args) => qdict({ pong: args['n'] ?? true }), {
      options: { allowOob: true, allowPreconfig: false, coroutine: false },
    }),
    cmd('throw-bug', () => {
      const o = undefined as unknown as { x: number };
      return o.x;
    }),
    cmd('throw-qapi', () => {
      throw new QapiError("Device 'nope' not found", 'DeviceNotFound');
    }),
    cmd('reject-async', async () => {
      await Promise.resolve();
      throw new Error('async failure');
    }),
    cmd('emit-event', (args) => {
      const name = String(args['name'] ?? 'RESUME');
      const data = args['data'];
      qapiEventEmit(
        name,
        data && typeof data === 'object' && !Array.isArray(data) ? (data as QDict) : undefined,
      );
      return qdict();
    }),
    cmd('big', (args) => 'x'.repeat(Number(args['size'] ?? 1024 * 1024))),
    cmd('disabled-cmd', () => qdict(), { enabled: false }),
  ];
  return new Map(list.map((c) => [c.name, c]));
}

let dir: string | null = null;

/** A fresh directory for socket paths (short, as sun_path is limited to 108 bytes). */
export function sockPath(name: string): string {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'qmpt-'));
  return path.join(dir, name);
}

let labelN = 0;

/** Start a QMP monitor on a chardev given in -qmp syntax; returns the monitor and its chardev. */
export async function startQmp(
  spec: string,
  monOpts: MonitorQmpOptions = {},
): Promise<{ mon: MonitorQMP; chr: Chardev }> {
  const chr = await qemuChrNewFromOpts(chrParseCompat(`qmptest${labelN++}`, spec, true));
  const mon = new MonitorQMP(chr, { commands: testCommands(), ...monOpts }).start();
  return { mon, chr };
}

/** The TCP port a server chardev bound (for port 0). */
export function boundPort(chr: Chardev): number {
  const a = (chr as SocketChardev).address;
  if (a.type !== 'inet') throw new Error('not a TCP chardev');
  return Number(a.port);
}
