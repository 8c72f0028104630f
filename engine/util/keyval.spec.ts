import { describe, expect, it } from 'vitest';
import { keyvalMerge, keyvalParse, keyvalParseInto, parseQapiName } from './keyval.js';
import { QapiError } from '../qapi/error.js';
import { qdict } from '../qobject/qobject.js';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(QapiError);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('keyvalParse', () => {
  it('parses flat key=value lists, last one wins', () => {
    expect(keyvalParse('a=1,b=2,a=3')).toEqual({ dict: { a: '3', b: '2' }, help: false });
    expect(keyvalParse('')).toEqual({ dict: {}, help: false });
    expect(keyvalParse('a=')).toEqual({ dict: { a: '' }, help: false });
    expect(keyvalParse('a=1,').dict).toEqual({ a: '1' });
  });

  it('makes null-prototype dictionaries', () => {
    const { dict } = keyvalParse('constructor=1,a.toString=2');
    expect(Object.getPrototypeOf(dict)).toBe(null);
    expect(dict.constructor).toBe('1');
    expect(Object.getPrototypeOf(dict.a)).toBe(null);
    expect((dict.a as Record<string, unknown>).toString).toBe('2');
  });

  it('",," is a literal comma', () => {
    expect(keyvalParse('path=a,,b,,,c=d').dict).toEqual({ path: 'a,b,', c: 'd' });
    expect(keyvalParse('v=,,').dict).toEqual({ v: ',' });
    expect(keyvalParse('v=x=y').dict).toEqual({ v: 'x=y' });
  });

  it('dotted keys build nested dictionaries', () => {
    expect(keyvalParse('file.driver=nbd,file.server.host=h,file.server.port=1,node-name=n').dict).toEqual({
      file: { driver: 'nbd', server: { host: 'h', port: '1' } },
      'node-name': 'n',
    });
  });

  it('numeric key fragments build lists in index order', () => {
    expect(keyvalParse('a.1=y,a.0=x').dict).toEqual({ a: ['x', 'y'] });
    expect(keyvalParse('l.0.k=1,l.1.k=2').dict).toEqual({ l: [{ k: '1' }, { k: '2' }] });
    expect(keyvalParse('m.0.0=a,m.0.1=b').dict).toEqual({ m: [['a', 'b']] });
  });

  it('takes the first bare value as the implied key', () => {
    expect(keyvalParse('virtio-blk-pci,id=d0', 'driver').dict).toEqual({
      driver: 'virtio-blk-pci',
      id: 'd0',
    });
    expect(keyvalParse('512M', 'size').dict).toEqual({ size: '512M' });
    expect(keyvalParse('x.y=1', 'driver').dict).toEqual({ x: { y: '1' } });
    expect(keyvalParse('a', 'x.y').dict).toEqual({ x: { y: 'a' } });
    // Only the first item may omit its key.
    expect(errorOf(() => keyvalParse('a,b', 'driver'))).toBe("Expected '=' after parameter 'b'");
  });

  it('detects help requests', () => {
    expect(keyvalParse('help')).toEqual({ dict: {}, help: true });
    expect(keyvalParse('?')).toEqual({ dict: {}, help: true });
    expect(keyvalParse('virtio-net-pci,help', 'driver')).toEqual({
      dict: { driver: 'virtio-net-pci' },
      help: true,
    });
    expect(keyvalParse('help', 'driver').help).toBe(true);
    expect(keyvalParse('help=1').dict).toEqual({ help: '1' });
    expect(keyvalParse('helpme', 'driver').dict).toEqual({ driver: 'helpme' });
    // help consumed the implied key: the next bare item needs '='.
    expect(errorOf(() => keyvalParse('help,x', 'driver'))).toBe("Expected '=' after parameter 'x'");
    expect(errorOf(() => keyvalParse('help', null, false))).toBe('Help is not available for this option');
  });

  it.each([
    ['a', "Expected '=' after parameter 'a'"],
    ['a.b', "Expected '=' after parameter 'a.b'"],
    ['=v', "Invalid parameter ''"],
    [',a=1', "Invalid parameter ''"],
    ['1a=v', "Invalid parameter '1a'"],
    ['a.0b=v', "Invalid parameter 'a.0b'"],
    ['a..b=v', "Invalid parameter 'a..b'"],
    ['a b=v', "Invalid parameter 'a b'"],
    ['0=v', "Invalid parameter '0'"],
    ['a.b=1,a=2', "Parameters 'a.*' used inconsistently"],
    ['a=2,a.b=1', "Parameters 'a.*' used inconsistently"],
    ['a.b.c=1,a.b=2', "Parameters 'a.b.*' used inconsistently"],
    ['a.0=x,a.b=y', "Parameters 'a.*' used inconsistently"],
    ['x.a.0=x,x.a.b=y', "Parameters 'x.a.*' used inconsistently"],
    ['a.1=x', "Parameter 'a.0' missing"],
    ['a.0=x,a.2=y', "Parameter 'a.1' missing"],
    ['a.0=x,a.99999999999=y', "Parameter 'a.1' missing"],
    [`${'k'.repeat(128)}=v`, `Parameter '${'k'.repeat(128)}' is too long`],
    [`a.${'k'.repeat(128)}=v`, `Parameter fragment '${'k'.repeat(128)}' is too long`],
  ])('%j -> %s', (text, message) => {
    expect(errorOf(() => keyvalParse(text))).toBe(message);
  });

  it('accepts 127-character fragments and downstream __RFQDN_ names', () => {
    expect(Object.keys(keyvalParse(`${'k'.repeat(127)}=v`).dict)).toEqual(['k'.repeat(127)]);
    expect(keyvalParse('__com.redhat_x=1').dict).toEqual({ '__com.redhat_x': '1' });
    expect(parseQapiName('a-b_c9=x')).toBe(6);
    expect(parseQapiName('_x')).toBe(-1);
    expect(parseQapiName('ab', 0, true)).toBe(2);
    expect(parseQapiName('ab!', 0, true)).toBe(-1);
  });

  it('keyvalParseInto merges into an existing dictionary', () => {
    const d = qdict();
    keyvalParseInto(d, 'a.b=1', null);
    keyvalParseInto(d, 'a.c=2,a.b=3', null);
    expect(d).toEqual({ a: { b: '3', c: '2' } });
  });
});

describe('keyvalMerge', () => {
  it('merges dictionaries, concatenates lists, replaces strings', () => {
    const dest = keyvalParse('type=virt,mem.size=1G,l.0=a').dict;
    keyvalMerge(dest, keyvalParse('mem.slots=2,type=none,l.0=b').dict);
    expect(dest).toEqual({ type: 'none', mem: { size: '1G', slots: '2' }, l: ['a', 'b'] });
  });

  it('reports a member used both as string and dictionary', () => {
    const dest = keyvalParse('a.b.c=1').dict;
    expect(errorOf(() => keyvalMerge(dest, keyvalParse('a.b=2').dict))).toBe(
      "Parameter 'a.b' used inconsistently",
    );
  });
});
