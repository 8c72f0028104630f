/**
 * A VmService on a library in `dir` that runs the real engine (dist/, `npm run build`), for tests that
 * drive the engine through the service: no guest templates, no stats sampling, short stop timeouts.
 * Test-only (under testing/, which the package leaves out).
 */
import fs from 'node:fs';
import path from 'node:path';
import { VmService } from '../../api/service.js';
import { appPaths } from '../../app/paths.js';
import { Library } from '../../library/library.js';

/** Whether the engine is built (the tests skip otherwise). */
export const ENGINE_BUILT = fs.existsSync(path.join(appPaths.root, 'dist', 'engine', 'system', 'main.js'));

export function realEngineService(dir: string): { lib: Library; svc: VmService } {
  const lib = Library.open(path.join(dir, 'library.db'));
  const svc = new VmService(lib, {
    dataDir: dir,
    mode: 'web',
    version: 'test',
    supervisor: {
      engine: { command: process.execPath, prefix: [appPaths.engineScript] },
      timeouts: { connectMs: 15_000, powerdownMs: 300, killMs: 2000 },
    },
    guests: () => [],
    statsIntervalMs: 0,
  });
  return { lib, svc };
}
