import { describe, expect, it } from 'vitest';
import { flattenTree, loadQomTree, type QomProperty } from './device-tree.js';

const TREE: Record<string, QomProperty[]> = {
  '/machine': [
    { name: 'type', type: 'string' },
    { name: 'peripheral', type: 'child<container>' },
    { name: 'unattached', type: 'child<container>' },
  ],
  '/machine/peripheral': [{ name: 'rng0', type: 'child<virtio-rng-device>' }],
  '/machine/peripheral/rng0': [
    { name: 'realized', type: 'bool' },
    { name: 'max-bytes', type: 'uint64' },
  ],
  '/machine/unattached': [],
};

const list = async (path: string) => {
  const p = TREE[path];
  if (!p) throw new Error(`Device '${path}' not found`);
  return p;
};

describe('device tree', () => {
  it('follows child<> properties from /machine and keeps the other properties', async () => {
    const root = await loadQomTree(list);
    const rows = flattenTree(root, new Set()).map(
      (r) => `${'  '.repeat(r.depth)}${r.node.name} (${r.node.type})`,
    );
    expect(rows).toEqual([
      'machine (machine)',
      '  peripheral (container)',
      '    rng0 (virtio-rng-device)',
      '  unattached (container)',
    ]);
    const rng = root.children[0]!.children[0]!;
    expect(rng.path).toBe('/machine/peripheral/rng0');
    expect(rng.properties.map((p) => p.name)).toEqual(['max-bytes', 'realized']);
  });

  it('records errors per node and hides collapsed subtrees', async () => {
    const root = await loadQomTree(async (p) =>
      p === '/machine/unattached' ? Promise.reject(new Error('boom')) : list(p),
    );
    expect(root.children[1]!.error).toBe('boom');
    expect(flattenTree(root, new Set(['/machine/peripheral'])).map((r) => r.node.name)).toEqual([
      'machine',
      'peripheral',
      'unattached',
    ]);
  });

  it('stops after the node budget', async () => {
    const root = await loadQomTree(list, '/machine', 2);
    expect(flattenTree(root, new Set()).length).toBe(2);
  });
});
