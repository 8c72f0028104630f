/**
 * Snapshots as a tree (parent/child) with a "now" node under the snapshot the running state was last
 * taken from or reverted to, flattened into rows with depth for rendering.
 */
import type { Snapshot } from '../../../main/api/contract.js';

export interface SnapshotRow {
  kind: 'snapshot' | 'now';
  snapshot: Snapshot | null;
  depth: number;
  /** Draw a connector to a later sibling below this row. */
  hasNextSibling: boolean;
}

/** `current` is the snapshot the present state descends from (null: none, "now" is a root). */
export function snapshotRows(snapshots: readonly Snapshot[], current: string | null): SnapshotRow[] {
  const byParent = new Map<string | null, Snapshot[]>();
  const ids = new Set(snapshots.map((s) => s.id));
  for (const s of snapshots) {
    const parent = s.parentId !== null && ids.has(s.parentId) ? s.parentId : null;
    const list = byParent.get(parent) ?? [];
    list.push(s);
    byParent.set(parent, list);
  }
  for (const list of byParent.values())
    list.sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  const rows: SnapshotRow[] = [];
  const nowParent = current !== null && ids.has(current) ? current : null;
  const walk = (parent: string | null, depth: number, seen: Set<string>): void => {
    const kids = byParent.get(parent) ?? [];
    const withNow = parent === nowParent;
    kids.forEach((s, i) => {
      if (seen.has(s.id)) return; // defensive: a cycle in damaged data
      seen.add(s.id);
      rows.push({ kind: 'snapshot', snapshot: s, depth, hasNextSibling: i < kids.length - 1 || withNow });
      walk(s.id, depth + 1, seen);
    });
    if (withNow) rows.push({ kind: 'now', snapshot: null, depth, hasNextSibling: false });
  };
  walk(null, 0, new Set());
  return rows;
}

/** The newest snapshot: where "now" sits until reverts are tracked by the engine. */
export function latestSnapshotId(snapshots: readonly Snapshot[]): string | null {
  let best: Snapshot | null = null;
  for (const s of snapshots) if (!best || s.createdAt >= best.createdAt) best = s;
  return best?.id ?? null;
}
