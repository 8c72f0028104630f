import { describe, expect, it } from 'vitest';
import type { QomNodeInfo } from '../../../main/api/contract.js';
import { formatValue, pathsToRefresh, peripheralIds, treeRows } from './qom-tree.js';

const node = (path: string, type: string, children: string[][] = []): QomNodeInfo => ({
  path,
  type,
  children: children.map(([name, t]) => ({ name: name!, path: `${path}/${name}`, type: t! })),
  properties: [],
  device: null,
});

const NODES = {
  '/machine': node('/machine', 'none-machine', [
    ['peripheral', 'container'],
    ['unattached', 'container'],
  ]),
  '/machine/peripheral': node('/machine/peripheral', 'container', [
    ['br0', 'vmstudio-test-bridge'],
    ['dev0', 'vmstudio-test-device'],
  ]),
  '/machine/peripheral/dev0': node('/machine/peripheral/dev0', 'vmstudio-test-device'),
};

describe('lazy QOM tree', () => {
  it('shows loaded children of expanded nodes only', () => {
    const rows = treeRows(NODES, new Set(['/machine', '/machine/peripheral']), [
      { path: '/machine', type: 'machine' },
    ]);
    expect(rows.map((r) => `${'  '.repeat(r.depth)}${r.name} ${r.type}${r.expandable ? ' +' : ''}`)).toEqual([
      'machine none-machine +',
      '  peripheral container +',
      '    br0 vmstudio-test-bridge +',
      '    dev0 vmstudio-test-device',
      '  unattached container +',
    ]);
    expect(treeRows(NODES, new Set(), [{ path: '/machine', type: 'machine' }])).toHaveLength(1);
    // Expanded but not loaded yet: the row is there, its children come when the node is read.
    expect(treeRows({}, new Set(['/machine'])).map((r) => [r.path, r.loaded])).toEqual([
      ['/machine', false],
      ['/objects', false],
    ]);
  });

  it('refreshes parents first, knows the peripheral ids, formats values', () => {
    expect(pathsToRefresh(NODES)).toEqual(['/machine', '/machine/peripheral', '/machine/peripheral/dev0']);
    expect(peripheralIds(NODES)).toEqual(new Set(['br0', 'dev0']));
    expect(formatValue('/objects/rng0')).toBe('/objects/rng0');
    expect(formatValue('')).toBe('""');
    expect(formatValue({ size: 1 })).toBe('{"size":1}');
    expect(formatValue(false)).toBe('false');
  });
});
