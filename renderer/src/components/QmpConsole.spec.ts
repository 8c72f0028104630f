import { describe, expect, it } from 'vitest';
import type { QmpSchemaSummary } from '../../../main/api/contract.js';
import { completions, formatJson, formatTime, parseQmpInput, signature, suggest } from './qmp-console.js';

describe('QMP console input', () => {
  it('accepts a bare command, a command with JSON arguments, and a full QMP request', () => {
    expect(parseQmpInput(' query-status ')).toEqual({ ok: true, command: 'query-status' });
    expect(parseQmpInput('qom-list {"path": "/machine"}')).toEqual({
      ok: true,
      command: 'qom-list',
      args: { path: '/machine' },
    });
    expect(
      parseQmpInput('{"execute": "qom-get", "arguments": {"path": "/machine", "property": "type"}}'),
    ).toEqual({
      ok: true,
      command: 'qom-get',
      args: { path: '/machine', property: 'type' },
    });
  });

  it('explains malformed input', () => {
    expect(parseQmpInput('')).toEqual({ ok: false, error: 'Type a command, e.g. query-status' });
    expect(parseQmpInput('{"arguments": {}}')).toEqual({
      ok: false,
      error: "QMP input lacks member 'execute'",
    });
    expect(parseQmpInput('qom-list [1]')).toEqual({ ok: false, error: 'Arguments must be a JSON object' });
    const bad = parseQmpInput('qom-list {path}');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^Arguments are not valid JSON/);
  });

  it('completes command names, prefix matches first', () => {
    const cmds = ['query-status', 'query-name', 'qom-list', 'x-query-foo', 'quit'];
    expect(completions(cmds, 'query')).toEqual(['query-name', 'query-status', 'x-query-foo']);
    expect(completions(cmds, 'qom-list {')).toEqual([]);
    expect(completions(cmds, '')).toEqual([]);
    expect(formatJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
  });
});

describe('QMP console completion from the schema', () => {
  const schema: QmpSchemaSummary = {
    commands: [
      {
        name: 'qom-list',
        args: [{ name: 'path', type: 'str', optional: false }],
        additionalArgs: false,
        returns: 'object[]',
      },
      {
        name: 'qom-list-types',
        args: [
          { name: 'implements', type: 'str', optional: true },
          { name: 'abstract', type: 'bool', optional: true },
        ],
        additionalArgs: false,
        returns: 'object[]',
      },
      {
        name: 'object-add',
        args: [
          { name: 'qom-type', type: 'enum', optional: false, enumValues: ['rng-builtin', 'secret'] },
          { name: 'id', type: 'str', optional: false },
        ],
        additionalArgs: false,
        returns: 'object',
      },
    ],
    events: ['STOP'],
  };
  const lines = (line: string) => suggest(schema, [], line).map((s) => s.line);

  it('completes command names with their signatures', () => {
    const s = suggest(schema, [], 'qom-l');
    expect(s.map((x) => x.label)).toEqual(['qom-list', 'qom-list-types']);
    expect(s[0]!.detail).toBe('qom-list(path: str) → object[]');
    expect(s[1]!.line).toBe('qom-list-types ');
    expect(lines('{"execute": "obj')).toEqual(['{"execute": "object-add"']);
  });

  it('completes argument names not used yet, then enum values', () => {
    expect(lines('qom-list-types {')).toEqual([
      'qom-list-types {"implements": "',
      'qom-list-types {"abstract": ',
    ]);
    expect(lines('qom-list-types {"implements": "device",')).toEqual([
      'qom-list-types {"implements": "device", "abstract": ',
    ]);
    expect(lines('qom-list-types {"ab')).toEqual(['qom-list-types {"abstract": ']);
    expect(lines('object-add {"qom-type": "rn')).toEqual(['object-add {"qom-type": "rng-builtin"']);
    expect(lines('nope {')).toEqual([]);
    expect(signature(schema.commands[2]!)).toBe('object-add(qom-type: rng-builtin|secret, id: str)');
  });

  it('formats transcript times', () => {
    expect(formatTime(new Date(2026, 0, 2, 3, 4, 5, 67).getTime())).toBe('03:04:05.067');
  });
});
