import { describe, expect, it } from 'vitest';
import type { SchemaInfo } from '../generated/qmp-client-types.js';
import { summarizeSchema } from './schema-summary.js';

// The shape of QEMU's query-qmp-schema: non-builtin type names masked as numbers.
const SCHEMA = [
  { name: 'qom-list', 'meta-type': 'command', 'arg-type': '1', 'ret-type': '[2]' },
  { name: 'device_add', 'meta-type': 'command', 'arg-type': '3', 'ret-type': '0' },
  { name: 'query-status', 'meta-type': 'command', 'arg-type': '0', 'ret-type': '2' },
  { name: 'object-add', 'meta-type': 'command', 'arg-type': '5', 'ret-type': '0' },
  { name: 'STOP', 'meta-type': 'event', 'arg-type': '0' },
  { name: '0', 'meta-type': 'object', members: [] },
  { name: '1', 'meta-type': 'object', members: [{ name: 'path', type: 'str' }] },
  { name: '2', 'meta-type': 'object', members: [{ name: 'name', type: 'str' }] },
  {
    name: '3',
    'meta-type': 'object',
    members: [
      { name: 'driver', type: 'str' },
      { name: 'bus', type: 'str', default: null },
      { name: 'ids', type: '[int]', default: null },
    ],
  },
  { name: '4', 'meta-type': 'enum', values: ['rng-builtin', 'secret'] },
  {
    name: '5',
    'meta-type': 'object',
    members: [
      { name: 'qom-type', type: '4' },
      { name: 'id', type: 'str' },
    ],
    tag: 'qom-type',
    variants: [{ case: 'secret', type: '6' }],
  },
  { name: '6', 'meta-type': 'object', members: [{ name: 'data', type: 'str', default: null }] },
  { name: 'str', 'meta-type': 'builtin', 'json-type': 'string' },
  { name: 'int', 'meta-type': 'builtin', 'json-type': 'int' },
] as unknown as SchemaInfo[];

describe('QMP schema summary', () => {
  it('resolves masked type names of command arguments', () => {
    const s = summarizeSchema(SCHEMA);
    expect(s.events).toEqual(['STOP']);
    const by = new Map(s.commands.map((c) => [c.name, c]));
    expect(by.get('qom-list')).toEqual({
      name: 'qom-list',
      args: [{ name: 'path', type: 'str', optional: false }],
      additionalArgs: false,
      returns: 'object[]',
    });
    expect(by.get('device_add')!.args).toEqual([
      { name: 'driver', type: 'str', optional: false },
      { name: 'bus', type: 'str', optional: true },
      { name: 'ids', type: 'int[]', optional: true },
    ]);
    expect(by.get('device_add')!.additionalArgs).toBe(true);
    expect(by.get('object-add')!.args).toEqual([
      { name: 'qom-type', type: 'enum', optional: false, enumValues: ['rng-builtin', 'secret'] },
      { name: 'id', type: 'str', optional: false },
      { name: 'data', type: 'str', optional: true },
    ]);
    expect(s.commands.map((c) => c.name)).toEqual(['device_add', 'object-add', 'qom-list', 'query-status']);
  });
});
