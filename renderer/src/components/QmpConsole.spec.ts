import { describe, expect, it } from 'vitest';
import { completions, formatJson, parseQmpInput } from './qmp-console.js';

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
