/**
 * The engine's -drive/-blockdev/-snapshot options and block QMP commands, in a real engine process
 * (from source): query-block in the reference's shape (tests/reference/.../query-block.json),
 * query-named-block-nodes, blockdev-add/blockdev-del with QEMU's error texts, image locking between
 * two engines, and -snapshot leaving no file behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readReference } from '../helpers/reference.js';

const MAIN = resolve(import.meta.dirname, 'engine-main.ts');
const dir = mkdtempSync(join(tmpdir(), 'vmstudio-blockdev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Reply = { return?: unknown; error?: { class: string; desc: string }; event?: string };

/** Run the engine with `args`, send QMP commands on stdio, return the replies (events dropped). */
function qmp(
  args: string[],
  cmds: Array<[string, Record<string, unknown>?]>,
): { replies: Reply[]; stderr: string; code: number | null } {
  const input = [['qmp_capabilities'], ...cmds, ['quit']]
    .map(([execute, a]) => JSON.stringify(a ? { execute, arguments: a } : { execute }))
    .join('\n');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', MAIN, ...args, '-qmp', 'stdio', '-display', 'none'],
    {
      input: input + '\n',
      encoding: 'utf8',
      timeout: 30000,
    },
  );
  const replies = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Reply)
    .filter((x) => !x.event && !('QMP' in x));
  return { replies: replies.slice(1, -1), stderr: r.stderr, code: r.status };
}

const img = (name: string, ...create: string[]): string => {
  const f = join(dir, name);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', ...create, f, '64M']);
  return f;
};

const keys = (o: unknown): string[] => Object.keys(o as object).sort();

describe('-drive and query-block', () => {
  it('matches the reference shape, with the default empty drives of the virt machine', () => {
    const f = img('hd0.qcow2');
    const { replies } = qmp(
      ['-M', 'virt', '-S', '-drive', `file=${f},format=qcow2,if=none,id=hd0`],
      [['query-block']],
    );
    const ours = replies[0]!.return as Array<Record<string, unknown>>;
    const ref = JSON.parse(readReference('query-block.json')) as Array<Record<string, unknown>>;
    expect(ours.map((b) => b['device'])).toEqual(ref.map((b) => b['device']));
    const [o, r] = [ours[0]!, ref[0]!];
    // Not attached to a device yet: no qdev/io-status, removable (as QEMU shows a device-less drive).
    expect(keys(o)).toEqual(keys(r).filter((k) => k !== 'qdev' && k !== 'io-status'));
    const oi = o['inserted'] as Record<string, unknown>;
    const ri = r['inserted'] as Record<string, unknown>;
    expect(keys(oi)).toEqual(keys(ri));
    expect(keys(oi['image'])).toEqual(keys(ri['image']));
    expect(oi['image']).toMatchObject({
      filename: f,
      format: 'qcow2',
      'virtual-size': 67108864,
      'cluster-size': 65536,
    });
    expect((oi['image'] as Record<string, unknown>)['format-specific']).toEqual(
      (ri['image'] as Record<string, unknown>)['format-specific'],
    );
    expect(oi['node-name']).toMatch(/^#block\d+$/);
    expect(ours.slice(1)).toEqual(ref.slice(1));
  });

  it('-nodefaults drops the empty drives; -snapshot puts a temporary overlay on top', () => {
    const f = img('snapbase.qcow2');
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('vmstudio-snapshot-')).length;
    const { replies } = qmp(
      ['-M', 'virt', '-S', '-nodefaults', '-snapshot', '-drive', `file=${f},if=none,id=d`],
      [['query-block']],
    );
    const list = replies[0]!.return as Array<Record<string, any>>;
    expect(list).toHaveLength(1);
    const image = list[0]!['inserted']['image'];
    expect(image['backing-filename']).toBe(f);
    expect(image['backing-image']['filename']).toBe(f);
    expect(list[0]!['inserted']['backing_file_depth']).toBe(1);
    // The overlay file was unlinked once open.
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('vmstudio-snapshot-')).length).toBe(before);
    expect(spawnSync('qemu-img', ['check', f]).status).toBe(0);
  });

  it('reports -drive errors at the option, as QEMU does', () => {
    const r = qmp(['-M', 'none', '-drive', `file=${join(dir, 'missing.qcow2')},if=none`], []);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `-drive file=${join(dir, 'missing.qcow2')},if=none: Could not open '${join(dir, 'missing.qcow2')}': No such file or directory`,
    );
    const r2 = qmp(['-M', 'none', '-drive', `file=${img('x.qcow2')},if=ide`], []);
    expect(r2.stderr).toContain('machine type does not support if=ide,bus=0,unit=0');
    const r3 = qmp(['-M', 'none', '-drive', `file=${img('y.qcow2')},bogus=1`], []);
    expect(r3.stderr).toContain("Block format 'raw' does not support the option 'bogus'");
  });

  it('refuses a second writer of the same image (image locking)', () => {
    const f = img('locked.qcow2');
    const first = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        '-M',
        'none',
        '-drive',
        `file=${f},if=none,id=a`,
        '-drive',
        `file=${f},if=none,id=b`,
      ],
      { encoding: 'utf8', timeout: 30000 },
    );
    expect(first.status).toBe(1);
    expect(first.stderr).toContain('Failed to get "write" lock');
    expect(first.stderr).toContain(`Is another process using the image [${f}]?`);
  });
});

describe('blockdev-add / blockdev-del / query-named-block-nodes', () => {
  it('adds a qcow2 node over a file node, lists both, deletes with QEMU texts', () => {
    const base = img('bbase.qcow2');
    const top = img('btop.qcow2', '-b', base, '-F', 'qcow2');
    const { replies } = qmp(
      ['-M', 'none', '-blockdev', `driver=file,node-name=proto,filename=${base},read-only=on`],
      [
        ['blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: top } }],
        ['query-named-block-nodes', { flat: true }],
        ['blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: top } }],
        ['blockdev-add', { driver: 'qcow2', file: 'proto' }],
        ['blockdev-add', { driver: 'qcow2', 'node-name': 'x', file: 'nonode' }],
        ['blockdev-add', { driver: 'vmdk', 'node-name': 'v', file: 'proto' }],
        ['blockdev-del', { 'node-name': 'nonode' }],
        ['blockdev-add', { driver: 'raw', 'node-name': 'r', file: 'proto' }],
        ['blockdev-del', { 'node-name': 'proto' }],
        ['blockdev-del', { 'node-name': 'r' }],
        ['blockdev-del', { 'node-name': 'proto' }],
        ['blockdev-del', { 'node-name': 'top' }],
        ['query-named-block-nodes'],
      ],
    );
    expect(replies[0]).toEqual({ return: {} });
    const nodes = replies[1]!.return as Array<Record<string, any>>;
    const names = nodes.map((n) => n['node-name']);
    expect(names).toContain('proto');
    expect(names).toContain('top');
    const topInfo = nodes.find((n) => n['node-name'] === 'top')!;
    expect(topInfo['drv']).toBe('qcow2');
    expect(topInfo['backing_file']).toBe(base);
    expect(topInfo['backing_file_depth']).toBe(1);
    expect(topInfo['image']['backing-image']).toBeUndefined();
    const err = (i: number): string | undefined => replies[i]!.error?.desc;
    expect(err(2)).toBe("Duplicate nodes with node-name='top'");
    expect(err(3)).toBe("'node-name' must be specified for the root node");
    expect(err(4)).toBe("Cannot find device='nonode' nor node-name='nonode'");
    expect(err(5)).toBe("Parameter 'driver' does not accept value 'vmdk'");
    expect(err(6)).toBe("Failed to find node with node-name='nonode'");
    expect(replies[7]).toEqual({ return: {} });
    expect(err(8)).toBe('Block device proto is in use');
    expect(replies[9]).toEqual({ return: {} });
    expect(replies[10]).toEqual({ return: {} });
    expect(replies[11]).toEqual({ return: {} });
    // The backing chain node top opened implicitly went away with it.
    expect(replies[12]!.return).toEqual([]);
  });
});
