import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../api/contract.js';
import { isEmptyPlan, planReconcile } from './reconcile.js';

const row = (id: string, tag: string, sizeBytes = 100): Snapshot => ({
  id,
  vmId: 'vm',
  name: `name of ${tag}`,
  parentId: null,
  createdAt: 1,
  sizeBytes,
  kind: 'vmstate',
  tag,
  auto: false,
  recorded: true,
});

describe('planReconcile', () => {
  it('drops rows whose data is gone and adopts snapshots the library never recorded', () => {
    const plan = planReconcile(
      [row('r1', 'a'), row('r2', 'gone')],
      [
        { tag: 'later', createdAt: 30, sizeBytes: 7 },
        { tag: 'a', createdAt: 1, sizeBytes: 100 },
        { tag: 'earlier', createdAt: 20, sizeBytes: 5 },
      ],
    );
    expect(plan.remove).toEqual(['r2']);
    expect(plan.adopt.map((a) => a.tag)).toEqual(['earlier', 'later']);
    expect(plan.sizes).toEqual([]);
  });

  it('refreshes sizes the engine reports differently, ignoring unknown (0) sizes', () => {
    const plan = planReconcile(
      [row('r1', 'a', 100), row('r2', 'b', 100)],
      [
        { tag: 'a', createdAt: 1, sizeBytes: 4096 },
        { tag: 'b', createdAt: 1, sizeBytes: 0 },
      ],
    );
    expect(plan.sizes).toEqual([{ id: 'r1', sizeBytes: 4096 }]);
  });

  it('leaves the tags of an operation in progress alone (neither dropped nor adopted)', () => {
    const plan = planReconcile(
      [row('r1', 'being-deleted')],
      [{ tag: 'being-saved', createdAt: 1, sizeBytes: 1 }],
      new Set(['being-deleted', 'being-saved']),
    );
    expect(isEmptyPlan(plan)).toBe(true);
  });

  it('is empty when library and engine agree', () => {
    expect(isEmptyPlan(planReconcile([row('r', 't')], [{ tag: 't', createdAt: 1, sizeBytes: 100 }]))).toBe(
      true,
    );
  });
});
