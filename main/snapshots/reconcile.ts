/**
 * Keep the library's snapshot rows and the engine's snapshots in agreement. Rows are only written
 * after the engine confirms an operation, so a failure mid-way (engine crash, app killed between the
 * engine's write and the library's) leaves at most a snapshot the library does not know, or a row
 * whose data is gone. Reconciling adopts the former (named by its tag, since its display name was
 * never stored) and drops the latter; snapshots an operation is working on right now are left alone.
 */
import type { Snapshot } from '../api/contract.js';

export interface EngineSnapshotFact {
  tag: string;
  createdAt: number;
  sizeBytes: number;
}

export interface ReconcilePlan {
  /** Library rows (ids) whose snapshot the engine no longer has. */
  remove: string[];
  /** Engine snapshots the library has no row for. */
  adopt: EngineSnapshotFact[];
  /** Rows whose size the engine reports differently. */
  sizes: { id: string; sizeBytes: number }[];
}

export function planReconcile(
  rows: readonly Snapshot[],
  engine: readonly EngineSnapshotFact[],
  busyTags: ReadonlySet<string> = new Set(),
): ReconcilePlan {
  const byTag = new Map(engine.map((e) => [e.tag, e]));
  const known = new Set(rows.map((r) => r.tag));
  const plan: ReconcilePlan = { remove: [], adopt: [], sizes: [] };
  for (const r of rows) {
    if (busyTags.has(r.tag)) continue;
    const e = byTag.get(r.tag);
    if (!e) plan.remove.push(r.id);
    else if (e.sizeBytes > 0 && e.sizeBytes !== r.sizeBytes)
      plan.sizes.push({ id: r.id, sizeBytes: e.sizeBytes });
  }
  for (const e of engine) if (!known.has(e.tag) && !busyTags.has(e.tag)) plan.adopt.push(e);
  plan.adopt.sort((a, b) => a.createdAt - b.createdAt);
  return plan;
}

export function isEmptyPlan(p: ReconcilePlan): boolean {
  return p.remove.length === 0 && p.adopt.length === 0 && p.sizes.length === 0;
}
