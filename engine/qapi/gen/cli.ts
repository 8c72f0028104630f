/**
 * `npm run gen`: generate the QAPI code from engine/qapi/schema/qapi-schema.json into
 * engine/qapi/generated/ and main/generated/. Schema errors print in QEMU's format and exit 1.
 *
 * Options: --schema FILE, --engine-out DIR, --client-out DIR, -D SYMBOL (define for 'if' conditions).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.js';
import { QapiSchemaError } from './source.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const defines = new Set<string>();
args.forEach((a, i) => {
  if (a === '-D' && args[i + 1]) defines.add(args[i + 1]!);
});

const t0 = performance.now();
try {
  // Relative schema path so error locations read like QEMU's (engine/qapi/schema/foo.json:12: ...).
  const schemaFile = path.relative(
    process.cwd(),
    path.resolve(root, opt('--schema', 'engine/qapi/schema/qapi-schema.json')),
  );
  const changed = generate({
    schemaFile,
    engineOut: path.resolve(root, opt('--engine-out', 'engine/qapi/generated')),
    clientOut: path.resolve(root, opt('--client-out', 'main/generated')),
    defines,
  });
  const ms = Math.round(performance.now() - t0);
  console.log(
    `qapi-gen: ${changed.length ? `wrote ${changed.map((f) => path.relative(root, f)).join(', ')}` : 'up to date'} (${ms} ms)`,
  );
} catch (e) {
  if (e instanceof QapiSchemaError) {
    console.error(e.format());
    process.exit(1);
  }
  throw e;
}
