/**
 * Snapshots shared with QEMU 7.2 through the same qcow2 image, both ways, on the `none` machine
 * (the same machine in both, so the machine state matches): QEMU's savevm loads in our engine with
 * the disk contents of that moment, ours loads in QEMU, and `qemu-img` lists both snapshots with a
 * VM state and finds the image clean.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, 'engine-main.ts');
const QEMU = 'qemu-system-riscv64';
const haveQemu = spawnSync(QEMU, ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'vmstudio-snapinterop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  /** The replies to the HMP lines, in order. */
  replies: string[];
  /** Everything the process wrote (QEMU prints qemu-io results there). */
  stdout: string;
}

/** Run `cmd` with the HMP `lines` sent through QMP on stdio, then quit. */
function run(cmd: string[], lines: string[]): Run {
  const input = [
    { execute: 'qmp_capabilities' },
    ...lines.map((l) => ({ execute: 'human-monitor-command', arguments: { 'command-line': l } })),
    { execute: 'quit' },
  ]
    .map((c) => JSON.stringify(c))
    .join('\n');
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), '-qmp', 'stdio', '-display', 'none'], {
    input: `${input}\n`,
    encoding: 'utf8',
    timeout: 60000,
  });
  const replies = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { return?: unknown; event?: string; QMP?: unknown })
    .filter((m) => m.event === undefined && m.QMP === undefined)
    .map((m) => (typeof m.return === 'string' ? m.return : ''));
  return { replies: replies.slice(1, 1 + lines.length), stdout: r.stdout };
}

const machine = (img: string) => ['-M', 'none', '-nodefaults', '-drive', `file=${img},if=none,id=hd0`];
const qemu = (img: string, lines: string[]) => run([QEMU, ...machine(img)], lines);
const ours = (img: string, lines: string[]) =>
  run([process.execPath, '--import', 'tsx', MAIN, ...machine(img)], lines);

describe.skipIf(!haveQemu)('snapshots shared with QEMU 7.2', () => {
  it('QEMU -> ours -> QEMU', () => {
    const img = join(dir, 'shared.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, '16M']);

    const q1 = qemu(img, [
      'qemu-io hd0 "write -P 0x11 0 64k"',
      'savevm q1',
      'qemu-io hd0 "write -P 0x22 0 64k"',
    ]);
    expect(q1.replies[1]).toBe('');

    const o = ours(img, [
      'info snapshots',
      'loadvm q1',
      'qemu-io hd0 "read -P 0x11 0 64k"',
      'qemu-io hd0 "write -P 0x33 0 64k"',
      'savevm o1',
      'qemu-io hd0 "write -P 0x44 0 64k"',
    ]);
    expect(o.replies[0]).toMatch(/^List of snapshots present on all disks:\r\n.*\r\n-- {8}q1 +\d+ B /);
    expect(o.replies[1]).toBe('');
    expect(o.replies[2]).toMatch(/^read 65536\/65536 bytes at offset 0\r\n/);
    expect(o.replies[4]).toBe('');

    const list = execFileSync('qemu-img', ['snapshot', '-l', img], { encoding: 'utf8' }).split('\n');
    expect(list[2]).toMatch(/^1 +q1 +[1-9]\d* B \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \d\d:\d\d:\d\d\.\d{3} +$/);
    expect(list[3]).toMatch(/^2 +o1 +[1-9]\d* B \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \d\d:\d\d:\d\d\.\d{3} +$/);
    expect(spawnSync('qemu-img', ['check', img]).status).toBe(0);

    const q2 = qemu(img, [
      'loadvm o1',
      'qemu-io hd0 "read -P 0x33 0 64k"',
      'loadvm q1',
      'qemu-io hd0 "read -P 0x11 0 64k"',
    ]);
    expect(q2.replies[0]).toBe('');
    expect(q2.replies[2]).toBe('');
    expect(q2.stdout).toMatch(
      /read 65536\/65536 bytes at offset 0[\s\S]*read 65536\/65536 bytes at offset 0/,
    );
    expect(q2.stdout).not.toMatch(/Pattern verification failed/);
    // The revert stays on disk (the last write, 0x44, is gone), and the pattern check can fail.
    const q3 = qemu(img, ['qemu-io hd0 "read -P 0x44 0 64k"']);
    expect(q3.stdout).toMatch(/Pattern verification failed at offset 0, 65536 bytes/);
  });
});
