/**
 * Migration of a running Debian guest to a NEW engine process through a file, the QEMU 7.2 way
 * (QEMU 7.2 has no file: URI): `migrate` with `exec:cat > FILE` on the source, then the same command
 * line plus `-S -incoming 'exec:cat FILE'` in a fresh process and `cont`. The guest runs
 * vmstudio-counter in the background (a line a second on the console); the destination must stay
 * silent while paused, then continue the count from where the source stopped (not from the start,
 * not with a jump), and its shell must still answer.
 *
 * One boot (minutes at the interpreter's speed); skipped when the guest is not built or gated in CI.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSerialProcess, type SerialProcess } from '../guest/serial-session.js';
import { QmpTestClient, type Json } from '../qmp/qmp-test-client.js';
import { bootToPrompt, guestEngineArgs, needGuest } from '../machine/guest-on-engine.js';

const dir = mkdtempSync(join(tmpdir(), 'vmstudio-guestmig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hostSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openQmp(path: string): Promise<QmpTestClient> {
  for (let i = 0; !existsSync(path); i++) {
    if (i > 600) throw new Error(`no QMP socket at ${path}`);
    await hostSleep(100);
  }
  const q = await QmpTestClient.connect({ path });
  await q.negotiate();
  return q;
}

let ids = 0;

/** A command's return value. Replies may take long: the engine serializes the guest in one go. */
async function ret(q: QmpTestClient, cmd: string, args?: { [k: string]: Json }): Promise<Json> {
  const id = `m${ids++}`;
  q.send(JSON.stringify(args ? { execute: cmd, arguments: args, id } : { execute: cmd, id }) + '\n');
  const r = await q.reply(id, 600_000);
  if ('error' in r) throw new Error(`${cmd}: ${JSON.stringify(r['error'])}`);
  return r['return']!;
}

async function pollUntil<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  ms: number,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await hostSleep(250);
  }
}

const status = async (q: QmpTestClient) => ((await ret(q, 'query-status')) as { status: string }).status;

/** Every vmstudio-counter value printed in `text`, in order. */
function counts(text: string): number[] {
  return [...text.matchAll(/vmstudio-counter (\d+)\n/g)].map((m) => Number(m[1]));
}

describe('migrating a running guest to a new engine process', () => {
  it(
    'exec: to a file, -incoming exec: in a new process: the counter and the shell go on',
    { timeout: 2_400_000 },
    async (ctx) => {
      const g = await needGuest(ctx);
      const file = join(dir, 'guest.mig');
      const srcSock = join(dir, 'src.sock');
      const dstSock = join(dir, 'dst.sock');
      const base = guestEngineArgs(g);
      let src: SerialProcess | undefined;
      let dst: SerialProcess | undefined;
      const qmps: QmpTestClient[] = [];
      try {
        ({ vm: src } = await bootToPrompt([...base, '-qmp', `unix:${srcSock},server=on,wait=off`]));
        const sq = await openQmp(srcSock);
        qmps.push(sq);
        // Detached (a subshell's background job): the console shows its lines, the shell stays free.
        src.session.sendLine('(vmstudio-counter 1000 &)');
        await src.session.waitFor(/vmstudio-counter 1003\n/, 300_000);

        const t0 = performance.now();
        await ret(sq, 'migrate', { uri: `exec:cat > ${file}` });
        const info = (await pollUntil(
          'migration',
          () => ret(sq, 'query-migrate') as Promise<{ status?: string; 'error-desc'?: string }>,
          (i) => i.status === 'completed' || i.status === 'failed',
          600_000,
        )) as { status: string; 'error-desc'?: string };
        expect(info.status, info['error-desc']).toBe('completed');
        expect(await status(sq)).toBe('postmigrate');
        const migrateMs = performance.now() - t0;
        // The source is stopped: what its console printed last is what the saved guest had printed.
        await hostSleep(2000);
        const saved = counts(src.session.output);
        const last = saved.at(-1)!;
        expect(last).toBeGreaterThanOrEqual(1003);
        await ret(sq, 'quit');
        expect(await src.waitExit(120_000)).toEqual({ code: 0, signal: null });
        expect(statSync(file).size).toBeGreaterThan(1 << 20);

        // Same command line, paused (-S) until `cont`, state from the file.
        const t1 = performance.now();
        dst = startSerialProcess(
          process.execPath,
          [...base, '-qmp', `unix:${dstSock},server=on,wait=off`, '-S', '-incoming', `exec:cat ${file}`],
          { timeoutMs: 120_000 },
        );
        const dq = await openQmp(dstSock);
        qmps.push(dq);
        await pollUntil(
          'incoming migration',
          () => status(dq),
          (s) => s !== 'inmigrate',
          600_000,
        );
        expect(await status(dq)).toBe('paused');
        const loadMs = performance.now() - t1;
        // Paused: the virtual clock stands still, so the guest's `sleep 1` does not end.
        await hostSleep(3000);
        expect(counts(dst.session.output)).toEqual([]);

        await ret(dq, 'cont');
        expect(await status(dq)).toBe('running');
        await dst.session.waitFor(/vmstudio-counter \d+\n/, 300_000);
        await dst.session.waitFor(/vmstudio-counter \d+\n/, 300_000);
        const after = counts(dst.session.output);
        console.log(
          `[guest migrate] migrate ${(migrateMs / 1000).toFixed(1)} s, ${(statSync(file).size / 1048576).toFixed(1)} MiB; ` +
            `incoming ${(loadMs / 1000).toFixed(1)} s; source last ${last}, destination ${after.join(' ')}`,
        );
        // Continues from the saved count: no restart from 1000, no jump, still counting up by one.
        expect(after[0]).toBeGreaterThanOrEqual(last);
        expect(after[0]).toBeLessThanOrEqual(last + 2);
        expect(after[1]).toBe(after[0]! + 1);

        // The shell answers (its output is matched alone: counter lines may interleave).
        dst.session.sendLine('echo shell-$((6*7)) $(nproc)');
        await dst.session.waitFor(/shell-42 1\n/, 300_000);
        dst.session.sendLine('poweroff -f');
        expect(await dst.waitExit(180_000)).toEqual({ code: 0, signal: null });
      } catch (e) {
        throw new Error(
          `${(e as Error).message}\nsource stderr: ${src?.stderr() ?? ''}\ndestination stderr: ${dst?.stderr() ?? ''}` +
            `\ndestination console: ${dst?.session.tail() ?? ''}`,
        );
      } finally {
        for (const q of qmps) void q.close();
        src?.kill();
        dst?.kill();
      }
    },
  );
});
