import { describe, expect, it } from 'vitest';
import { QObjectOutputVisitor } from './qobject-output-visitor.js';
import { QObjectInputVisitor } from './qobject-input-visitor.js';
import { toJson } from '../../qobject/json-writer.js';
import { qdict, qobjectEqual } from '../../qobject/qobject.js';
import { visitSample, type Sample } from './testing/sample-types.js';

const SAMPLE: Sample = {
  id: 's1',
  count: 7,
  small: -5,
  big: 18446744073709551615n,
  size: 4096,
  flag: true,
  ratio: 0.1,
  mode: 'auto',
  tags: ['a', 'b'],
  inner: { x: 1, name: 'n' },
  list: [{ x: 2 }, { x: 3 }],
  opt: 9,
  data: qdict({ any: [1, null] }),
  alt: 'text',
};

describe('QObjectOutputVisitor', () => {
  it('builds the QObject, member order as visited, uint64 kept exact', () => {
    const v = new QObjectOutputVisitor();
    expect(visitSample(v, null, SAMPLE)).toEqual(SAMPLE);
    expect(toJson(v.result())).toBe(
      '{"id": "s1", "count": 7, "small": -5, "big": 18446744073709551615, "size": 4096, "flag": true, ' +
        '"ratio": 0.10000000000000001, "mode": "auto", "tags": ["a", "b"], "inner": {"x": 1, "name": "n"}, ' +
        '"list": [{"x": 2}, {"x": 3}], "opt": 9, "data": {"any": [1, null]}, "alt": "text"}',
    );
  });

  it('leaves absent optional members out', () => {
    const v = new QObjectOutputVisitor();
    visitSample(v, null, { ...SAMPLE, opt: undefined, inner: { x: 1 } });
    const out = v.result() as Record<string, unknown>;
    expect('opt' in out).toBe(false);
    expect(Object.keys(out.inner as object)).toEqual(['x']);
  });

  it('output then input gives the same value back', () => {
    const out = new QObjectOutputVisitor();
    visitSample(out, null, SAMPLE);
    const back = visitSample(new QObjectInputVisitor(out.result()), null);
    expect(back).toEqual(SAMPLE);
    const again = new QObjectOutputVisitor();
    visitSample(again, null, back);
    expect(qobjectEqual(again.result(), out.result())).toBe(true);
  });

  it('scalars at the top level and the alternate type of the current value', () => {
    const v = new QObjectOutputVisitor();
    v.typeInt64(null, 2n ** 60n);
    expect(v.result()).toBe(2n ** 60n);
    expect(new QObjectOutputVisitor().startAlternate('a', 'x')).toBe('string');
    expect(new QObjectOutputVisitor().startAlternate('a', 5)).toBe('int');
    expect(new QObjectOutputVisitor().startAlternate('a', { k: 1 })).toBe('object');
  });

  it('hides deprecated members only with the hide policy', () => {
    expect(new QObjectOutputVisitor().deprecated('x')).toBe(true);
    expect(new QObjectOutputVisitor({ deprecatedOutput: 'hide' }).deprecated('x')).toBe(false);
  });

  it('result() before a complete visit is a bug', () => {
    const v = new QObjectOutputVisitor();
    expect(() => v.result()).toThrow();
    v.startStruct(null);
    expect(() => v.result()).toThrow();
  });
});
