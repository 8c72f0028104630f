import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../main/api/contract.js';
import { latestSnapshotId, snapshotRows } from './snapshot-tree.js';

describe('snapshot tree', () => {
  const snap = (id: string, parentId: string | null, t: number): Snapshot => ({
    id,
    vmId: 'v',
    name: id,
    parentId,
    createdAt: t,
    sizeBytes: 0,
    kind: 'vmstate',
  });

  it('nests children under parents and places "now" under the current snapshot', () => {
    const snaps = [snap('b', 'a', 2), snap('a', null, 1), snap('c', 'a', 3), snap('d', 'b', 4)];
    const rows = snapshotRows(snaps, 'c').map((r) => `${'  '.repeat(r.depth)}${r.snapshot?.id ?? 'now'}`);
    expect(rows).toEqual(['a', '  b', '    d', '  c', '    now']);
    expect(latestSnapshotId(snaps)).toBe('d');
  });

  it('shows "now" alone at the root when there are no snapshots, and survives dangling parents', () => {
    expect(snapshotRows([], null).map((r) => r.kind)).toEqual(['now']);
    const rows = snapshotRows([snap('x', 'gone', 1)], 'x');
    expect(rows.map((r) => [r.kind, r.depth])).toEqual([
      ['snapshot', 0],
      ['now', 1],
    ]);
  });
});
