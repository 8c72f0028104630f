import { describe, expect, it } from 'vitest';
import { QObjectInputVisitor } from './qobject-input-visitor.js';
import { QapiError } from '../error.js';
import { parseJson } from '../../qobject/json-parser.js';
import { qdict, type QObject } from '../../qobject/qobject.js';
import { visitSample, visitSampleInner } from './testing/sample-types.js';

const SAMPLE_JSON = `{"id": "s1", "count": 7, "small": -5, "big": 18446744073709551615, "size": 4096,
  "flag": true, "ratio": 0.5, "mode": "auto", "tags": ["a", "b"], "inner": {"x": 1, "name": "n"},
  "list": [{"x": 2}, {"x": 3}], "data": {"any": [1, null]}, "alt": "text"}`;

function sample(patch: (d: Record<string, QObject>) => void = () => {}): QObject {
  const d = parseJson(SAMPLE_JSON) as Record<string, QObject>;
  patch(d);
  return d;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(QapiError);
    return (e as QapiError).message;
  }
  throw new Error('no error');
}

describe('QObjectInputVisitor', () => {
  it('reads a struct with every kind of member', () => {
    const s = visitSample(new QObjectInputVisitor(sample()), null);
    expect(s).toEqual({
      id: 's1',
      count: 7,
      small: -5,
      big: 18446744073709551615n,
      size: 4096,
      flag: true,
      ratio: 0.5,
      mode: 'auto',
      tags: ['a', 'b'],
      inner: { x: 1, name: 'n' },
      list: [{ x: 2 }, { x: 3 }],
      data: { any: [1, null] },
      alt: 'text',
    });
    expect(s.opt).toBeUndefined();
    expect(visitSample(new QObjectInputVisitor(sample((d) => (d.alt = 12))), null).alt).toBe(12);
  });

  it('reports a missing member with its full path', () => {
    expect(
      errorOf(() =>
        visitSample(
          new QObjectInputVisitor(sample((d) => delete (d.inner as Record<string, QObject>).x)),
          null,
        ),
      ),
    ).toBe("Parameter 'inner.x' is missing");
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => delete d.id)), null))).toBe(
      "Parameter 'id' is missing",
    );
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => delete d.alt)), null))).toBe(
      "Parameter 'alt' is missing",
    );
  });

  it('reports wrong types with the full path, list indexes included', () => {
    const bad = sample((d) => ((d.list as QObject[])[1] = qdict({ x: 'three' })));
    expect(errorOf(() => visitSample(new QObjectInputVisitor(bad), null))).toBe(
      "Invalid parameter type for 'list[1].x', expected: integer",
    );
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.id = 1))), null))).toBe(
      "Invalid parameter type for 'id', expected: string",
    );
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.flag = 'yes'))), null))).toBe(
      "Invalid parameter type for 'flag', expected: boolean",
    );
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.ratio = 'x'))), null))).toBe(
      "Invalid parameter type for 'ratio', expected: number",
    );
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.inner = []))), null))).toBe(
      "Invalid parameter type for 'inner', expected: object",
    );
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.tags = 'a'))), null))).toBe(
      "Invalid parameter type for 'tags', expected: array",
    );
    expect(
      errorOf(() =>
        visitSample(new QObjectInputVisitor(sample((d) => ((d.tags as QObject[])[0] = 5))), null),
      ),
    ).toBe("Invalid parameter type for 'tags[0]', expected: string");
    expect(errorOf(() => visitSample(new QObjectInputVisitor([]), null))).toBe(
      "Invalid parameter type for '<anonymous>', expected: object",
    );
  });

  it('rejects doubles where integers are expected', () => {
    expect(errorOf(() => visitSampleInner(new QObjectInputVisitor(qdict({ x: 1.5 })), null))).toBe(
      "Invalid parameter type for 'x', expected: integer",
    );
    // An integer beyond 2^53 held in a JS number can only have been a double.
    expect(errorOf(() => new QObjectInputVisitor(2 ** 60).typeInt64(null))).toBe(
      "Invalid parameter type for '<anonymous>', expected: integer",
    );
    expect(new QObjectInputVisitor(-(2n ** 63n)).typeInt64(null)).toBe(-(2n ** 63n));
    expect(errorOf(() => new QObjectInputVisitor(2n ** 63n).typeInt64(null))).toBe(
      "Invalid parameter type for '<anonymous>', expected: integer",
    );
  });

  it('uint64 accepts negative int64 by wrapping, and rejects doubles with "expects uint64"', () => {
    expect(new QObjectInputVisitor(-1).typeUint64(null)).toBe(18446744073709551615n);
    expect(visitSample(new QObjectInputVisitor(sample((d) => (d.big = -2))), null).big).toBe(
      18446744073709551614n,
    );
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.big = 0.5))), null))).toBe(
      "Parameter 'big' expects uint64",
    );
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.size = 'big'))), null))).toBe(
      "Parameter 'size' expects uint64",
    );
  });

  it('range errors of narrow integers name only the member, like qapi-visit-core.c', () => {
    const bad = sample((d) => ((d.list as QObject[])[0] = qdict({ x: 2 ** 31 })));
    expect(errorOf(() => visitSample(new QObjectInputVisitor(bad), null))).toBe(
      "Parameter 'x' expects int32_t",
    );
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.small = 128))), null))).toBe(
      "Parameter 'small' expects int8_t",
    );
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.count = -1))), null))).toBe(
      "Parameter 'count' expects uint32_t",
    );
    expect(new QObjectInputVisitor(255).typeUint8(null)).toBe(255);
    expect(errorOf(() => new QObjectInputVisitor(256).typeUint8(null))).toBe(
      "Parameter 'null' expects uint8_t",
    );
    expect(new QObjectInputVisitor(-32768).typeInt16(null)).toBe(-32768);
    expect(errorOf(() => new QObjectInputVisitor(65536).typeUint16('u'))).toBe(
      "Parameter 'u' expects uint16_t",
    );
  });

  it('rejects unknown enum values', () => {
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.mode = 'bogus'))), null))).toBe(
      "Parameter 'mode' does not accept value 'bogus'",
    );
    const v = new QObjectInputVisitor(['on', 'maybe']);
    v.startList(null);
    expect(v.typeEnum(null, ['on', 'off'])).toBe('on');
    expect(errorOf(() => v.typeEnum(null, ['on', 'off']))).toBe(
      "Parameter 'null' does not accept value 'maybe'",
    );
  });

  it('is strict: unvisited members and list elements are errors', () => {
    expect(errorOf(() => visitSample(new QObjectInputVisitor(sample((d) => (d.bogus = 1))), null))).toBe(
      "Parameter 'bogus' is unexpected",
    );
    const bad = sample((d) => ((d.list as QObject[])[1] = qdict({ x: 1, extra: true })));
    expect(errorOf(() => visitSample(new QObjectInputVisitor(bad), null))).toBe(
      "Parameter 'list[1].extra' is unexpected",
    );

    const v = new QObjectInputVisitor(qdict({ l: [1, 2, 3] }));
    v.startStruct(null);
    expect(v.startList('l')).toBe(3);
    v.typeInt64(null);
    expect(errorOf(() => v.checkList())).toBe('Only 1 list elements expected in l');
  });

  it('optional() sees present members, including JSON null', () => {
    const v = new QObjectInputVisitor(qdict({ a: null }));
    v.startStruct(null);
    expect(v.optional('a')).toBe(true);
    expect(v.optional('b')).toBe(false);
    expect(v.startAlternate('a')).toBe('null');
    expect(v.typeNull('a')).toBeNull();
    v.checkStruct();
    v.endStruct();
    expect(errorOf(() => new QObjectInputVisitor(0).typeNull(null))).toBe(
      "Invalid parameter type for '<anonymous>', expected: null",
    );
  });

  it('deprecated members follow the input policy', () => {
    expect(new QObjectInputVisitor(qdict()).deprecatedAccept('old')).toBe(true);
    expect(
      errorOf(() => new QObjectInputVisitor(qdict(), { deprecatedInput: 'reject' }).deprecatedAccept('old')),
    ).toBe("Deprecated parameter 'old' disabled by policy");
  });

  it('typeAny hands out the QObject as is', () => {
    const data = qdict({ k: [1n << 60n] });
    expect(new QObjectInputVisitor(data).typeAny(null)).toBe(data);
  });
});

describe('QObjectInputVisitor keyval mode', () => {
  const kv = (s: string, implied?: string) => QObjectInputVisitor.fromKeyval(s, implied);
  const KEYVAL =
    'id=s1,count=0x10,small=-5,big=-1,size=1.5k,flag=on,ratio=2.5e1,mode=off,tags.0=a,tags.1=b,' +
    'inner.x=010,list.0.x=1,data.k=v,alt=str';

  it('parses scalars from strings', () => {
    expect(visitSample(kv(KEYVAL), null)).toEqual({
      id: 's1',
      count: 16,
      small: -5,
      big: 18446744073709551615n,
      size: 1536,
      flag: true,
      ratio: 25,
      mode: 'off',
      tags: ['a', 'b'],
      inner: { x: 8 },
      list: [{ x: 1 }],
      data: { k: 'v' },
      alt: 'str',
    });
  });

  it('accepts every qapi_bool_parse spelling', () => {
    for (const [s, b] of [
      ['on', true],
      ['yes', true],
      ['true', true],
      ['y', true],
      ['off', false],
      ['no', false],
      ['false', false],
      ['n', false],
    ] as const) {
      const v = kv(`b=${s}`);
      v.startStruct(null);
      expect(v.typeBool('b')).toBe(b);
    }
  });

  it.each([
    ['count=0x10', 'count=ten', "Parameter 'count' expects integer"],
    ['small=-5', 'small=1k', "Parameter 'small' expects integer"],
    ['small=-5', 'small=200', "Parameter 'small' expects int8_t"],
    ['size=1.5k', 'size=1.5', "Parameter 'size' expects size"],
    ['size=1.5k', 'size=-1', "Parameter 'size' expects size"],
    ['flag=on', 'flag=maybe', "Parameter 'flag' expects 'on' or 'off'"],
    ['ratio=2.5e1', 'ratio=inf', "Invalid parameter type for 'ratio', expected: number"],
    ['id=s1', 'id.x=1', "Parameters 'id.*' are unexpected"],
    ['list.0.x=1', 'list.0.x=1,list.1.x=z', "Parameter 'list.1.x' expects integer"],
    ['list.0.x=1', 'list.0.y=1', "Parameter 'list.0.x' is missing"],
    ['mode=off', 'mode=bogus', "Parameter 'mode' does not accept value 'bogus'"],
    ['alt=str', 'alt=str,extra=1', "Parameter 'extra' is unexpected"],
  ])('%s -> %s: %s', (from, to, message) => {
    expect(KEYVAL).toContain(from);
    expect(errorOf(() => visitSample(kv(KEYVAL.replace(from, to)), null))).toBe(message);
  });

  it('fromKeyval refuses help and fromStr accepts JSON or keyval', () => {
    expect(errorOf(() => kv('help'))).toBe('Help is not available for this option');
    const json = QObjectInputVisitor.fromStr('{"x": 3}');
    expect(visitSampleInner(json, null)).toEqual({ x: 3 });
    const keyval = QObjectInputVisitor.fromStr('3,name=n', 'x');
    expect(visitSampleInner(keyval, null)).toEqual({ x: 3, name: 'n' });
  });
});
