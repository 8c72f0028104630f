/**
 * Jobs at `quit` over QMP in a real engine process: concluded manual-dismiss jobs that nobody
 * dismissed get JOB_STATUS_CHANGE "null" right after SHUTDOWN and before the reply to `quit`, newest
 * first, as qemu-system-riscv64 7.2 does (job_cancel_sync_all() in qemu_cleanup()); a dismissed job
 * gets no second "null". Also checked against QEMU itself when it is installed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../block/engine-main.ts');
const dir = mkdtempSync(join(tmpdir(), 'vmstudio-jobquit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Msg = { [k: string]: unknown };

/** A QMP session on a process's stdio: send commands, wait for messages. */
class StdioQmp {
  readonly messages: Msg[] = [];
  private buf = '';
  private waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;
  private readonly child;

  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).trim();
        this.buf = this.buf.slice(i + 1);
        if (line.startsWith('{')) this.messages.push(JSON.parse(line) as Msg);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }

  send(execute: string, args?: Msg): void {
    this.child.stdin.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n');
  }

  async until(pred: (m: Msg[]) => boolean, what: string, ms = 20000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.messages)) {
      if (Date.now() > end)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(this.messages)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

const concluded = (id: string) => (m: Msg[]) =>
  m.some(
    (x) =>
      x['event'] === 'JOB_STATUS_CHANGE' &&
      (x['data'] as Msg)['id'] === id &&
      (x['data'] as Msg)['status'] === 'concluded',
  );

/**
 * Three snapshot-save jobs (two fail, one saves), the middle one dismissed by hand, then quit.
 * Returns what followed the quit command: events as "EVENT id status" and the reply as "return".
 */
async function jobsThenQuit(cmd: string, args: string[]): Promise<string[]> {
  const img = join(dir, `${Math.random().toString(36).slice(2)}.qcow2`);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, '16M']);
  const s = new StdioQmp(cmd, [
    ...args,
    '-M',
    'virt',
    '-S',
    '-display',
    'none',
    '-bios',
    'none',
    '-qmp',
    'stdio',
    '-blockdev',
    `driver=file,filename=${img},node-name=f0`,
    '-blockdev',
    'driver=qcow2,file=f0,node-name=q0',
    '-device',
    'virtio-blk-device,drive=q0',
  ]);
  try {
    s.send('qmp_capabilities');
    s.send('snapshot-save', { 'job-id': 'a1', tag: 't1', vmstate: 'nope', devices: ['nope'] });
    await s.until(concluded('a1'), 'a1 concluded');
    s.send('snapshot-save', { 'job-id': 'b2', tag: 't2', vmstate: 'q0', devices: ['q0'] });
    await s.until(concluded('b2'), 'b2 concluded');
    s.send('snapshot-save', { 'job-id': 'c3', tag: 't3', vmstate: 'nope', devices: ['nope'] });
    await s.until(concluded('c3'), 'c3 concluded');
    s.send('job-dismiss', { id: 'b2' });
    s.send('query-jobs');
    await s.until((m) => m.some((x) => Array.isArray(x['return'])), 'query-jobs');
    // QEMU keeps its job list newest first, and query-jobs shows it in that order.
    const listed = s.messages.find((x) => Array.isArray(x['return']))!['return'] as Msg[];
    const order = `query-jobs ${listed.map((j) => String(j['id'])).join(',')}`;
    const from = s.messages.length;
    s.send('quit');
    expect(await s.exited).toBe(0);
    return [
      order,
      ...s.messages.slice(from).map((x) => {
        if ('return' in x) return 'return';
        const d = (x['data'] ?? {}) as Msg;
        return x['event'] === 'JOB_STATUS_CHANGE'
          ? `JOB_STATUS_CHANGE ${String(d['id'])} ${String(d['status'])}`
          : String(x['event']);
      }),
    ];
  } finally {
    s.kill();
  }
}

const EXPECTED = [
  'query-jobs c3,a1',
  'SHUTDOWN',
  'JOB_STATUS_CHANGE c3 null',
  'JOB_STATUS_CHANGE a1 null',
  'return',
];

describe('jobs at quit', () => {
  it('the engine dismisses leftover jobs like QEMU 7.2', async () => {
    expect(await jobsThenQuit(process.execPath, ['--import', 'tsx', MAIN])).toEqual(EXPECTED);
  }, 60000);

  it.skipIf(!existsSync('/usr/bin/qemu-system-riscv64'))(
    'qemu-system-riscv64 7.2 does the same',
    async () => {
      expect(await jobsThenQuit('/usr/bin/qemu-system-riscv64', [])).toEqual(EXPECTED);
    },
    60000,
  );
});
