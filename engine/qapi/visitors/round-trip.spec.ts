import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CloneVisitor, qapiClone } from './clone-visitor.js';
import { QObjectInputVisitor } from './qobject-input-visitor.js';
import { QObjectOutputVisitor } from './qobject-output-visitor.js';
import { toJson } from '../../qobject/json-writer.js';
import { parseJson } from '../../qobject/json-parser.js';
import { qdict, qobjectEqual, type QObject } from '../../qobject/qobject.js';
import { SAMPLE_MODES, visitSample, type Sample } from './testing/sample-types.js';

const innerArb = fc
  .record({
    x: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    name: fc.option(fc.string(), { nil: undefined }),
  })
  .map((r) => (r.name === undefined ? { x: r.x } : r));

const sampleArb: fc.Arbitrary<Sample> = fc
  .record({
    id: fc.string(),
    count: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    small: fc.integer({ min: -128, max: 127 }),
    big: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    size: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    flag: fc.boolean(),
    // -0.0 comes back as the integer 0 from QEMU's JSON too ("%.17g" prints "-0", an integer token).
    ratio: fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    mode: fc.constantFrom(...SAMPLE_MODES),
    tags: fc.array(fc.string(), { maxLength: 4 }),
    inner: innerArb,
    list: fc.array(innerArb, { maxLength: 3 }),
    opt: fc.option(fc.integer(), { nil: undefined }),
    data: fc.jsonValue().map((j) => parseJson(JSON.stringify(j))),
    alt: fc.oneof(fc.integer(), fc.string()),
  })
  .map((r) => {
    const s = { ...r, big: canonical(r.big), size: canonical(r.size) } as Sample;
    if (r.opt === undefined) delete s.opt;
    return s;
  });

function canonical(b: bigint): number | bigint {
  return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

function toQObject(s: Sample): QObject {
  const out = new QObjectOutputVisitor();
  visitSample(out, null, s);
  return out.result();
}

describe('CloneVisitor', () => {
  it('copies deeply: nothing mutable is shared', () => {
    const s: Sample = {
      id: 'a',
      count: 1,
      small: 2,
      big: 2n ** 64n - 1n,
      size: 4096,
      flag: false,
      ratio: 1.5,
      mode: 'on',
      tags: ['t'],
      inner: { x: 1, name: 'n' },
      list: [{ x: 2 }],
      data: qdict({ k: [1, 2] }),
      alt: 3,
    };
    const c = qapiClone(s, visitSample);
    expect(c).toEqual(s);
    expect(c).not.toBe(s);
    expect(c.tags).not.toBe(s.tags);
    expect(c.inner).not.toBe(s.inner);
    expect(c.list[0]).not.toBe(s.list[0]);
    expect(c.data).not.toBe(s.data);
    (s.data as Record<string, QObject[]>).k!.push(3);
    expect(c.data).toEqual({ k: [1, 2] });
  });

  it('has the clone type and returns scalars as given', () => {
    const v = new CloneVisitor();
    expect(v.type).toBe('clone');
    expect(v.typeUint64('x', 2n ** 64n - 1n)).toBe(2n ** 64n - 1n);
    expect(v.startList('l', 3)).toBe(3);
    expect(v.startAlternate('a', 'str')).toBe('string');
    expect(v.optional('o', true)).toBe(true);
    expect(v.optional('o', false)).toBe(false);
  });
});

describe('QEMU-style round trip: input -> output -> clone', () => {
  it('gives identical values and identical JSON for any sample', () => {
    fc.assert(
      fc.property(sampleArb, (s) => {
        const json = toJson(toQObject(s));
        // input from the wire text, as QMP would receive it
        const parsed = visitSample(new QObjectInputVisitor(parseJson(json)), null);
        expect(parsed).toEqual(s);
        const back = toQObject(parsed);
        expect(toJson(back)).toBe(json);
        const cloned = qapiClone(parsed, visitSample);
        expect(cloned).toEqual(parsed);
        expect(qobjectEqual(toQObject(cloned), back)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('also through keyval text for the string-friendly members', () => {
    const text =
      'id=x,count=3,small=-1,big=18446744073709551615,size=2G,flag=yes,ratio=0.25,mode=auto,' +
      'tags.0=p,tags.1=q,inner.x=5,list.0.x=6,list.0.name=m,opt=4,data.k=v,alt=s';
    const s = visitSample(QObjectInputVisitor.fromKeyval(text), null);
    const again = visitSample(new QObjectInputVisitor(parseJson(toJson(toQObject(s)))), null);
    expect(again).toEqual(s);
    expect(qapiClone(again, visitSample)).toEqual(s);
    expect(s.size).toBe(2 ** 31);
    expect(s.big).toBe(18446744073709551615n);
  });
});
