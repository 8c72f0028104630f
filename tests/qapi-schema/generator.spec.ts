/**
 * Generator-level tests: 'if' evaluation, every backend on the stress-test schema, QEMU's QDict key
 * order, method-name clashes, and the speed budget (the generator runs before every build).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { dumpSchema } from '../../engine/qapi/gen/dump.js';
import { genClient, genClientTypes } from '../../engine/qapi/gen/gen-client.js';
import { genCommands } from '../../engine/qapi/gen/gen-commands.js';
import { genEvents } from '../../engine/qapi/gen/gen-events.js';
import { introspect, qdictKeyOrder } from '../../engine/qapi/gen/gen-introspect.js';
import { genTypes } from '../../engine/qapi/gen/gen-types.js';
import { genVisit } from '../../engine/qapi/gen/gen-visit.js';
import { generateFiles } from '../../engine/qapi/gen/generate.js';
import { Schema } from '../../engine/qapi/gen/schema.js';

const dir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(dir, '../..');
const readFile = (f: string): string => readFileSync(path.join(dir, f), 'utf8');
const fromText = (text: string, defines?: Set<string>): Schema =>
  new Schema('t.json', {
    readFile: (f) => (f === 't.json' ? text : readFile(f)),
    ...(defines ? { defines } : {}),
  });

function syntaxErrors(code: string): string[] {
  const out = ts.transpileModule(code, {
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022 },
  });
  return (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe("'if' conditions", () => {
  const text = readFile('if-ok.json');

  it('are kept verbatim without defines', () => {
    const dump = dumpSchema(fromText(text));
    expect(dump).toContain('member bar: int optional=False\n        if TEST_IF_STRUCT_BAR');
  });

  it('drop what is false when defines are given', () => {
    const all = fromText(text, new Set(['TEST_IF_STRUCT', 'TEST_IF_ENUM', 'A']));
    const dump = dumpSchema(all);
    expect(dump).toContain('object TestIfStruct');
    expect(dump).not.toContain('member bar: int');
    expect(dump).toMatch(/enum TestIfEnum\n {4}member foo\n {4}if/);
    expect(dump).toContain('command test-if-cmd');
    const none = dumpSchema(fromText(text, new Set()));
    expect(none).not.toContain('TestIfStruct');
    expect(none).not.toContain('test-if-cmd');
  });

  it('report a type that is used where it is not defined, like a C compile error would', () => {
    const bad =
      "{ 'struct': 'Cond', 'data': {}, 'if': 'X' }\n{ 'command': 'use-it', 'data': { 'c': 'Cond' } }\n";
    expect(() => fromText(bad)).not.toThrow();
    expect(() => fromText(bad, new Set())).toThrow("parameter 'c' uses unknown type 'Cond'");
  });
});

describe('backends on the stress-test schema', () => {
  const schema = new Schema('qapi-schema-test.json', { readFile });
  it('produce syntactically valid TypeScript', () => {
    const files = {
      types: genTypes(schema, { qobjectImport: "import type { QObject } from 'x';\n" }),
      visit: genVisit(schema),
      commands: genCommands(schema),
      events: genEvents(schema),
      clientTypes: genClientTypes(schema),
      client: genClient(schema),
    };
    for (const [name, code] of Object.entries(files)) expect(syntaxErrors(code), name).toEqual([]);
    expect(files.visit).toContain('export function visit_type___org_qemu_x_Union_members(');
    expect(files.commands).toContain(
      'userDefCmd2(args: T.q_obj_user_def_cmd2_arg, ctx: CommandContext): T.UserDefTwo',
    );
    expect(files.commands).toContain('successResponse: false');
    expect(files.events).toContain('eventF(args: T.UserDefFlatUnion): void');
  }, 30_000);

  it('introspect integer kinds as int and arrays of them as [int]', () => {
    const text =
      "{ 'struct': 'Ints', 'data': { 'a': ['int8'], 'b': 'uint64', '*c': ['size'], 'd': ['number'] } }\n" +
      "{ 'command': 'get-ints', 'returns': 'Ints', 'allow-oob': true }\n";
    const entries = introspect(fromText(text), true).map((e) => e.value);
    const ints = entries.find((e) => e.name === 'Ints')!;
    expect(ints.members).toEqual([
      { name: 'a', type: '[int]' },
      { name: 'b', type: 'int' },
      { name: 'c', default: null, type: '[int]' },
      { name: 'd', type: '[number]' },
    ]);
    expect(entries.find((e) => e.name === 'get-ints')!['allow-oob']).toBe(true);
    expect(entries.map((e) => e.name)).toEqual([
      'get-ints',
      'q_empty',
      'Ints',
      '[int]',
      'int',
      '[number]',
      'number',
    ]);
  });

  it('reject commands whose method names would collide', () => {
    const clash =
      "{ 'pragma': { 'command-name-exceptions': [ 'foo_bar' ] } }\n{ 'command': 'foo-bar' }\n{ 'command': 'foo_bar' }\n";
    expect(() => genCommands(fromText(clash))).toThrow(
      "command 'foo_bar' clashes with 'foo-bar' (both map to fooBar)",
    );
  });
});

describe("QEMU's QDict key order", () => {
  it('matches the reference query-qmp-schema layout', () => {
    expect(qdictKeyOrder(['name', 'meta-type', 'arg-type', 'ret-type'])).toEqual([
      'name',
      'ret-type',
      'meta-type',
      'arg-type',
    ]);
    expect(qdictKeyOrder(['name', 'type', 'default', 'features'])).toEqual([
      'name',
      'default',
      'type',
      'features',
    ]);
    expect(qdictKeyOrder(['name', 'meta-type', 'members', 'tag', 'variants'])).toEqual([
      'name',
      'tag',
      'variants',
      'members',
      'meta-type',
    ]);
  });
});

describe('the engine schema', () => {
  it('generates everything well within the 2 s budget', () => {
    const t0 = performance.now();
    const files = generateFiles({
      schemaFile: path.join(root, 'engine/qapi/schema/qapi-schema.json'),
      engineOut: path.join(root, 'engine/qapi/generated'),
      clientOut: path.join(root, 'main/generated'),
    });
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(2000);
    expect([...files.keys()].map((f) => path.basename(f)).sort()).toEqual([
      'qapi-commands.ts',
      'qapi-events.ts',
      'qapi-introspect.ts',
      'qapi-types.ts',
      'qapi-visit.ts',
      'qmp-client-types.ts',
      'qmp-client.ts',
    ]);
    // What `npm run gen` wrote is what the generator produces now (nobody edited generated code).
    for (const [file, text] of files) expect(readFileSync(file, 'utf8'), file).toBe(text);
  });
});
