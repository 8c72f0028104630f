/**
 * Snapshots as a tree (parent/child) with a "now" node under the snapshot the present state
 * descends from (the library's current snapshot: taken last or reverted to), flattened into rows
 * with depth and the vertical guide lines to draw for rendering.
 */
import type { Snapshot, VmConfig } from '../../../main/api/contract.js';

export interface SnapshotRow {
  kind: 'snapshot' | 'now';
  snapshot: Snapshot | null;
  depth: number;
  /** Draw a connector to a later sibling below this row. */
  hasNextSibling: boolean;
  /** For each ancestor level 0..depth-1: whether a guide line passes through this row there. */
  guides: boolean[];
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
  const walk = (parent: string | null, depth: number, guides: boolean[], seen: Set<string>): void => {
    const kids = (byParent.get(parent) ?? []).filter((s) => !seen.has(s.id)); // a cycle in damaged data
    const withNow = parent === nowParent;
    const total = kids.length + (withNow ? 1 : 0);
    kids.forEach((s, i) => {
      seen.add(s.id);
      const more = i < total - 1;
      rows.push({ kind: 'snapshot', snapshot: s, depth, hasNextSibling: more, guides });
      walk(s.id, depth + 1, [...guides, true], seen);
    });
    if (withNow) rows.push({ kind: 'now', snapshot: null, depth, hasNextSibling: false, guides });
  };
  walk(null, 0, [], new Set());
  return rows;
}

/** "Snapshot N", the first number not in use. */
export function defaultSnapshotName(existing: readonly string[]): string {
  const taken = new Set(existing);
  for (let n = existing.length + 1; ; n++) if (!taken.has(`Snapshot ${n}`)) return `Snapshot ${n}`;
}

const LABELS: Partial<Record<keyof VmConfig, string>> = {
  guest: 'Guest template',
  machine: 'Machine',
  cpus: 'CPUs',
  memoryMiB: 'Memory',
  firmware: 'Firmware',
  kernel: 'Kernel',
  initrd: 'Initrd',
  append: 'Kernel command line',
  devices: 'Devices',
  chardevs: 'Host channels',
};

export function configFieldLabel(field: keyof VmConfig): string {
  return LABELS[field] ?? field;
}
