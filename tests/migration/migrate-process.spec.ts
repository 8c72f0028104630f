/**
 * migrate between two engine processes: file:, exec: and unix: URIs, -incoming, the run state the
 * destination ends in (paused source -> paused destination, running -> running), and a refused
 * incoming stream (QEMU's texts on stderr, exit status 1).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QmpTestClient } from '../qmp/qmp-test-client.js';

const REPO = resolve(import.meta.dirname, '../..');
const MAIN = join(REPO, 'tests/migration/engine-main.ts');
const dir = mkdtempSync(join(tmpdir(), 'vmstudio-mig-'));
const BASE = ['-M', 'none', '-device', 'vmstudio-test-bridge', '-device', 'vmstudio-test-device,id=t0'];
const children: ChildProcess[] = [];
let n = 0;

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function engine(args: string[]): Promise<{ qmp: QmpTestClient; child: ChildProcess }> {
  const sock = join(dir, `qmp${n++}.sock`);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, ...args, '-qmp', `unix:${sock},server=on,wait=off`],
    {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(child);
  const deadline = Date.now() + 20000;
  while (!existsSync(sock)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('engine did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const qmp = await QmpTestClient.connect({ path: sock });
  await qmp.negotiate();
  return { qmp, child };
}

async function ret(q: QmpTestClient, cmd: string, args?: Record<string, unknown>): Promise<unknown> {
  const r = (await q.execute(cmd, args as never)) as { return?: unknown; error?: unknown };
  if (r.error) throw new Error(JSON.stringify(r.error));
  return r.return;
}

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}

const status = async (q: QmpTestClient) => ((await ret(q, 'query-status')) as { status: string }).status;
const doorbell = (q: QmpTestClient) =>
  ret(q, 'qom-get', { path: '/machine/peripheral/t0', property: 'doorbell' });

describe('migrate to another engine process', () => {
  for (const [what, out, inc] of [
    ['file:', (p: string) => `file:${p}`, (p: string) => `file:${p}`],
    ['exec:', (p: string) => `exec:cat > ${p}`, (p: string) => `exec:cat ${p}`],
  ] as const) {
    it(`${what} a paused source arrives paused, with its device state`, async () => {
      const path = join(dir, `${what.replace(':', '')}.mig`);
      const src = await engine(BASE);
      await ret(src.qmp, 'qom-set', { path: '/machine/peripheral/t0', property: 'doorbell', value: 77 });
      await ret(src.qmp, 'stop');
      await ret(src.qmp, 'migrate', { uri: out(path) });
      const info = await waitFor(
        () => ret(src.qmp, 'query-migrate') as Promise<{ status?: string }>,
        (i) => i.status === 'completed' || i.status === 'failed',
      );
      expect(info.status).toBe('completed');
      expect(await status(src.qmp)).toBe('postmigrate');
      src.child.kill();
      const dst = await engine([...BASE, '-incoming', inc(path)]);
      await waitFor(
        () => status(dst.qmp),
        (s) => s !== 'inmigrate',
      );
      expect(await status(dst.qmp)).toBe('paused');
      expect(await doorbell(dst.qmp)).toBe(77);
      dst.child.kill();
    });
  }

  it('unix: a running source arrives running', async () => {
    const path = join(dir, 'in.sock');
    const dst = await engine([...BASE, '-incoming', `unix:${path}`]);
    expect(await status(dst.qmp)).toBe('inmigrate');
    const src = await engine(BASE);
    await ret(src.qmp, 'qom-set', { path: '/machine/peripheral/t0', property: 'doorbell', value: 99 });
    await ret(src.qmp, 'migrate', { uri: `unix:${path}` });
    await waitFor(
      () => status(dst.qmp),
      (s) => s !== 'inmigrate',
    );
    expect(await status(dst.qmp)).toBe('running');
    expect(await doorbell(dst.qmp)).toBe(99);
    src.child.kill();
    dst.child.kill();
  });

  it('a refused stream: QEMU texts and exit status 1', () => {
    const bad = join(dir, 'bad.mig');
    writeFileSync(bad, 'QEVM\0\0\0\x03\x07\0\0\0\x04virt');
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...BASE, '-incoming', `file:${bad}`], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 30000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "vmstudio-engine: Machine type received is 'virt' and local is 'none'\n" +
        'vmstudio-engine: load of migration failed: Invalid argument\n',
    );
  });
});
