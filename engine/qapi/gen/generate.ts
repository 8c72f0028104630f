/**
 * Run every backend over a schema and write the generated files (only those whose text changed, so
 * incremental builds stay incremental). Entry point for cli.ts and the tests.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tsKey, tsStr } from './common.js';
import { banner } from './gen-common.js';
import { genClient, genClientTypes } from './gen-client.js';
import { type CommandsOptions, genCommands } from './gen-commands.js';
import { genEvents } from './gen-events.js';
import { type IntroValue, introspect } from './gen-introspect.js';
import { genTypes } from './gen-types.js';
import { genVisit } from './gen-visit.js';
import { Schema } from './schema.js';

export interface GenerateOptions {
  schemaFile: string;
  /** Directory for the engine side (engine/qapi/generated). */
  engineOut: string;
  /** Directory for the client side (main/generated); omit to skip. */
  clientOut?: string;
  /** Symbols for 'if' conditions (default: none defined). */
  defines?: ReadonlySet<string>;
  /** Where to look for QObjectInputVisitor/QObjectOutputVisitor (default: ../visitors next to engineOut). */
  visitorsDir?: string;
}

function introValueTs(v: IntroValue, indent: string): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return tsStr(v);
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    if (v.every((x) => typeof x === 'string')) return `[${v.map((x) => introValueTs(x, indent)).join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${v.map((x) => inner + introValueTs(x, inner)).join(',\n')},\n${indent}]`;
  }
  const entries = Object.entries(v).map(([k, x]) => `${tsKey(k)}: ${introValueTs(x, indent)}`);
  return `qdict({ ${entries.join(', ')} })`;
}

export function genIntrospect(schema: Schema): string {
  let out = banner('QAPI/QMP schema introspection (query-qmp-schema)');
  out += `import { type QObject, qdict } from '../../qobject/qobject.js';\n\n`;
  out += `/** SchemaInfo list as QEMU's qmp_schema_qlit: masked type names, QEMU's key order. */\n`;
  out += `export const qmpSchemaInfo: QObject = [\n`;
  for (const e of introspect(schema)) {
    if (e.comment) out += `  /* ${e.comment.replace(/\*\//g, '*\\/')} */\n`;
    out += `  ${introValueTs(e.value, '  ')},\n`;
  }
  out += `];\n`;
  return out;
}

/** Find `export class <name>` among the visitor sources; returns the import specifier. */
function findClass(dir: string, name: string, fromDir: string): { module: string; name: string } | undefined {
  if (!existsSync(dir)) return undefined;
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.ts') || f.endsWith('.spec.ts') || f.endsWith('.d.ts')) continue;
    const text = readFileSync(path.join(dir, f), 'utf8');
    if (new RegExp(`export class ${name}\\b`).test(text)) {
      let rel = path
        .relative(fromDir, path.join(dir, f.replace(/\.ts$/, '.js')))
        .split(path.sep)
        .join('/');
      if (!rel.startsWith('.')) rel = './' + rel;
      return { module: rel, name };
    }
  }
  return undefined;
}

export function generateFiles(opts: GenerateOptions): Map<string, string> {
  const schema = new Schema(opts.schemaFile, { defines: opts.defines ?? new Set() });
  const files = new Map<string, string>();
  const eng = (f: string): string => path.join(opts.engineOut, f);
  const visitorsDir = opts.visitorsDir ?? path.join(opts.engineOut, '..', 'visitors');
  const cmdOpts: CommandsOptions = {};
  const input = findClass(visitorsDir, 'QObjectInputVisitor', opts.engineOut);
  const output = findClass(visitorsDir, 'QObjectOutputVisitor', opts.engineOut);
  if (input && output) {
    cmdOpts.inputVisitor = input;
    cmdOpts.outputVisitor = output;
  }
  files.set(
    eng('qapi-types.ts'),
    genTypes(schema, { qobjectImport: `import type { QObject } from '../../qobject/qobject.js';\n` }),
  );
  files.set(eng('qapi-visit.ts'), genVisit(schema));
  files.set(eng('qapi-commands.ts'), genCommands(schema, cmdOpts));
  files.set(eng('qapi-events.ts'), genEvents(schema));
  files.set(eng('qapi-introspect.ts'), genIntrospect(schema));
  if (opts.clientOut) {
    files.set(path.join(opts.clientOut, 'qmp-client-types.ts'), genClientTypes(schema));
    files.set(path.join(opts.clientOut, 'qmp-client.ts'), genClient(schema));
  }
  return files;
}

/** Generate and write; returns the paths that changed. */
export function generate(opts: GenerateOptions): string[] {
  const changed: string[] = [];
  for (const [file, text] of generateFiles(opts)) {
    mkdirSync(path.dirname(file), { recursive: true });
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    writeFileSync(file, text);
    changed.push(file);
  }
  return changed;
}
