/**
 * Golden-file tests of the QAPI generator front end, in the manner of QEMU's tests/qapi-schema:
 * every <case>.json here is parsed and checked; a valid schema's dump (test-qapi.py format) must match
 * <case>.out, an invalid one's error message must match <case>.err.
 * Run with UPDATE_GOLDEN=1 to rewrite the expected files (then review the diff!).
 */
import { existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dumpSchema } from '../../engine/qapi/gen/dump.js';
import { Schema } from '../../engine/qapi/gen/schema.js';
import { QapiSchemaError } from '../../engine/qapi/gen/source.js';

const dir = path.dirname(fileURLToPath(import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();

/** Files are named relative to this directory, as QEMU's test-qapi.py runs there. */
const readFile = (f: string): string => readFileSync(path.join(dir, f), 'utf8');

function run(name: string): { out?: string; err?: string } {
  try {
    return { out: dumpSchema(new Schema(`${name}.json`, { readFile })) };
  } catch (e) {
    if (e instanceof QapiSchemaError) return { err: e.format() + '\n' };
    throw e;
  }
}

describe('qapi-schema golden files', () => {
  it('has a reasonable number of cases', () => {
    expect(cases.length).toBeGreaterThan(150);
  });

  for (const name of cases) {
    it(name, () => {
      const got = run(name);
      const outFile = path.join(dir, `${name}.out`);
      const errFile = path.join(dir, `${name}.err`);
      if (update) {
        for (const [file, text] of [
          [outFile, got.out],
          [errFile, got.err],
        ] as const) {
          if (text !== undefined) writeFileSync(file, text);
          else if (existsSync(file)) unlinkSync(file);
        }
        return;
      }
      if (existsSync(errFile)) {
        expect(got.out, 'schema should have been rejected').toBeUndefined();
        expect(got.err).toBe(readFileSync(errFile, 'utf8'));
      } else {
        expect(got.err, 'schema should have been accepted').toBeUndefined();
        expect(existsSync(outFile), `missing golden ${name}.out (run with UPDATE_GOLDEN=1)`).toBe(true);
        expect(got.out).toBe(readFileSync(outFile, 'utf8'));
      }
    });
  }
});
