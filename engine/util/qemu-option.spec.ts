import { describe, expect, it } from 'vitest';
import { QemuOptsRegistry, splitQemuOptsParams, type QemuOptsList } from './qemu-option.js';

const memory: QemuOptsList = {
  name: 'memory',
  impliedOptName: 'size',
  mergeLists: true,
  desc: [
    { name: 'size', type: 'size' },
    { name: 'slots', type: 'number' },
    { name: 'maxmem', type: 'size' },
  ],
};
const name: QemuOptsList = {
  name: 'name',
  impliedOptName: 'guest',
  mergeLists: true,
  desc: [
    { name: 'guest', type: 'string' },
    { name: 'process', type: 'string' },
    { name: 'debug-threads', type: 'bool' },
  ],
};
const device: QemuOptsList = { name: 'device', impliedOptName: 'driver', desc: [] };

function registry(): QemuOptsRegistry {
  const r = new QemuOptsRegistry();
  r.register(memory);
  r.register(name);
  r.register(device);
  return r;
}

describe('QemuOpts parsing', () => {
  it('takes the implied first option and unescapes doubled commas', () => {
    expect(splitQemuOptsParams('a,,b,process=x', 'guest')).toEqual([
      { name: 'guest', value: 'a,b', flag: false },
      { name: 'process', value: 'x', flag: false },
    ]);
  });

  it('parses sizes with suffixes and merges repeated -m', () => {
    const r = registry();
    r.parse('memory', '512M');
    const { opts } = r.parse('memory', 'size=2G');
    expect(r.all('memory')).toHaveLength(1);
    expect(opts.getSize('size', 0n)).toBe(2n * 1024n * 1024n * 1024n);
  });

  it("reports QEMU's texts for bad sizes, numbers and unknown parameters", () => {
    const r = registry();
    expect(() => r.parse('memory', 'foo')).toThrow(
      "Parameter 'size' expects a non-negative number below 2^64",
    );
    try {
      r.parse('memory', '1x');
    } catch (e) {
      expect((e as { hint?: string }).hint).toMatch(/^Optional suffix k, M, G, T, P or E/);
    }
    expect(() => r.parse('memory', '99999999999999999999')).toThrow(
      "Value '99999999999999999999' is out of range for parameter 'size'",
    );
    expect(() => r.parse('memory', 'size=1G,slots=x')).toThrow("Parameter 'slots' expects a number");
    expect(() => r.parse('memory', 'size=512M,bogus=1')).toThrow("Invalid parameter 'bogus'");
  });

  it('treats short-form booleans as on/off with a deprecation warning', () => {
    const r = registry();
    const { opts, warnings } = r.parse('name', 'foo,nodebug-threads');
    expect(opts.getBool('debug-threads', true)).toBe(false);
    expect(warnings).toEqual([
      "short-form boolean option 'nodebug-threads' deprecated\nPlease use debug-threads=off instead",
    ]);
    expect(() => r.parse('name', 'foo,debug-threads=maybe')).toThrow(
      "Parameter 'debug-threads' expects 'on' or 'off'",
    );
  });

  it('validates ids and refuses duplicates in non-merging lists', () => {
    const r = registry();
    expect(() => r.parse('device', 'x-foo,id=1a')).toThrow("Parameter 'id' expects an identifier");
    r.parse('device', 'foo,id=a');
    expect(() => r.parse('device', 'foo,id=a')).toThrow("Duplicate ID 'a' for device");
    expect(r.find('device', 'a')?.toQDict()).toEqual({ id: 'a', driver: 'foo' });
  });

  it('detects help requests', () => {
    const r = registry();
    expect(r.parse('device', 'foo,help').help).toBe(true);
    expect(r.parse('device', 'help').opts.get('driver')).toBe('help');
  });
});
