import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../main/api/contract.js';
import { configFieldLabel, defaultSnapshotName, snapshotRows } from './snapshot-tree.js';

describe('snapshot tree', () => {
  const snap = (id: string, parentId: string | null, t: number): Snapshot => ({
    id,
    vmId: 'v',
    name: id,
    parentId,
    createdAt: t,
    sizeBytes: 0,
    kind: 'vmstate',
    tag: `t-${id}`,
    auto: false,
    recorded: true,
  });

  it('nests children under parents and places "now" under the current snapshot', () => {
    const snaps = [snap('b', 'a', 2), snap('a', null, 1), snap('c', 'a', 3), snap('d', 'b', 4)];
    const rows = snapshotRows(snaps, 'c').map((r) => `${'  '.repeat(r.depth)}${r.snapshot?.id ?? 'now'}`);
    expect(rows).toEqual(['a', '  b', '    d', '  c', '    now']);
  });

  it('puts "now" after the current snapshot\'s children, as their last sibling', () => {
    const snaps = [snap('a', null, 1), snap('auto', 'a', 2)];
    const rows = snapshotRows(snaps, 'a');
    expect(rows.map((r) => [r.snapshot?.id ?? 'now', r.depth, r.hasNextSibling])).toEqual([
      ['a', 0, false],
      ['auto', 1, true],
      ['now', 1, false],
    ]);
    expect(rows[2]!.guides).toEqual([true]);
  });

  it('shows "now" alone at the root when there are no snapshots, and survives dangling parents', () => {
    expect(snapshotRows([], null).map((r) => r.kind)).toEqual(['now']);
    const rows = snapshotRows([snap('x', 'gone', 1)], 'x');
    expect(rows.map((r) => [r.kind, r.depth])).toEqual([
      ['snapshot', 0],
      ['now', 1],
    ]);
    // A current snapshot that no longer exists puts "now" at the root.
    expect(snapshotRows([snap('x', null, 1)], 'deleted').map((r) => [r.kind, r.depth])).toEqual([
      ['snapshot', 0],
      ['now', 0],
    ]);
  });

  it('suggests a free default name and labels configuration fields', () => {
    expect(defaultSnapshotName([])).toBe('Snapshot 1');
    expect(defaultSnapshotName(['Snapshot 2', 'x'])).toBe('Snapshot 3');
    expect(configFieldLabel('memoryMiB')).toBe('Memory');
  });
});
