/**
 * Fuzzing the QMP server: one client throws random bytes, random JSON and random request-shaped
 * objects at a monitor while a client of another monitor keeps getting correct answers. Afterwards a
 * fresh client on the fuzzed monitor must be greeted and served (the parser is reset on disconnect).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chardevDeleteAll } from '../../engine/chardev/char-registry.js';
import { resetEventThrottling } from '../../engine/monitor/monitor.js';
import type { MonitorQMP } from '../../engine/monitor/qmp.js';
import { sockPath, startQmp } from './qmp-fixtures.js';
import { type Json, QmpTestClient } from './qmp-test-client.js';

let fuzzPath = '';
let checkPath = '';
const mons: MonitorQMP[] = [];
let checker: QmpTestClient;
let fuzzer: QmpTestClient;

beforeAll(async () => {
  fuzzPath = sockPath('fuzz.sock');
  checkPath = sockPath('check.sock');
  mons.push((await startQmp(`unix:${fuzzPath},server=on,wait=off`)).mon);
  mons.push((await startQmp(`unix:${checkPath},server=on,wait=off`)).mon);
  checker = await QmpTestClient.connect({ path: checkPath });
  await checker.negotiate(['oob']);
  fuzzer = await QmpTestClient.connect({ path: fuzzPath });
  await fuzzer.negotiate(['oob']);
});

afterAll(async () => {
  await fuzzer.close();
  await checker.close();
  for (const m of mons) m.destroy();
  await chardevDeleteAll();
  resetEventThrottling();
});

const COMMANDS = [
  'echo',
  'oob-ping',
  'throw-bug',
  'throw-qapi',
  'reject-async',
  'emit-event',
  'query-version',
  'query-commands',
  'qmp_capabilities',
  'disabled-cmd',
  'no-such',
];

const jsonValue = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>;

const requestLike = fc
  .record(
    {
      execute: fc.oneof(fc.constantFrom(...COMMANDS), jsonValue),
      'exec-oob': fc.oneof(fc.constantFrom(...COMMANDS), jsonValue),
      arguments: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 4 }), jsonValue),
      id: jsonValue,
      extra: jsonValue,
    },
    { requiredKeys: [] },
  )
  .map((r) => JSON.stringify(r) + '\n');

const input = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  jsonValue.map((v) => JSON.stringify(v) + '\n'),
  requestLike,
  fc.string({ maxLength: 200 }),
);

describe('QMP fuzzing', () => {
  it('keeps serving other clients whatever one client sends', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(input, { minLength: 1, maxLength: 5 }), async (chunks) => {
        if (fuzzer.closed) {
          fuzzer = await QmpTestClient.connect({ path: fuzzPath });
          await fuzzer.greeting();
        }
        for (const c of chunks) fuzzer.send(c);
        const id = `chk${n++}`;
        const r = await checker.execute('echo', { id }, { id });
        expect(r).toEqual({ return: { id }, id });
      }),
      { numRuns: 120 },
    );
    // The fuzzed monitor itself still works for a new connection.
    await fuzzer.close();
    const fresh = await QmpTestClient.connect({ path: fuzzPath });
    await fresh.negotiate();
    expect((await fresh.execute('echo', { ok: 1 }))['return']).toEqual({ ok: 1 });
    await fresh.close();
  });
});
