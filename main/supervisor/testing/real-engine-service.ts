/**
 * A VmService on a library in `dir` that runs the real engine (dist/, `npm run build`), for tests that
 * drive the engine through the service: no guest templates, no stats sampling, short stop timeouts.
 * Test-only (under testing/, which the package leaves out).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { VmSummary } from '../../api/contract.js';
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

/**
 * Per-test set-up for specs that drive the real engine through the service: a fresh folder, library
 * and service before each test; engines stopped, library closed and folder removed after. Read
 * `svc`, `lib` and `dir` from the returned object inside tests (they change from test to test).
 */
export function useRealEngineService(prefix: string): {
  readonly svc: VmService;
  readonly lib: Library;
  readonly dir: string;
  /** A service method by name, as the renderer calls it. */
  call<T>(method: string, ...params: unknown[]): Promise<T>;
  /** Create and start a `virt` VM whose firmware is a one-instruction loop (no guest needed). */
  startLoopVm(name: string, devices: string[]): Promise<VmSummary>;
} {
  let current: { svc: VmService; lib: Library; dir: string } | null = null;
  const get = () => {
    if (!current) throw new Error('useRealEngineService: only inside a test');
    return current;
  };
  beforeEach(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vmstudio-${prefix}-`));
    current = { dir, ...realEngineService(dir) };
  });
  afterEach(async () => {
    const c = get();
    current = null;
    await c.svc.shutdown();
    c.lib.close();
    fs.rmSync(c.dir, { recursive: true, force: true });
  });
  const call = <T>(method: string, ...params: unknown[]): Promise<T> =>
    get().svc.dispatch(method as never, params) as Promise<T>;
  return {
    get svc() {
      return get().svc;
    },
    get lib() {
      return get().lib;
    },
    get dir() {
      return get().dir;
    },
    call,
    async startLoopVm(name, devices) {
      const loop = path.join(get().dir, 'loop.bin');
      fs.writeFileSync(loop, Buffer.from([0x6f, 0x00, 0x00, 0x00])); // j .
      const vm = await call<VmSummary>('vms.create', {
        name,
        guest: null,
        machine: 'virt',
        cpus: 1,
        memoryMiB: 64,
        firmware: loop,
        devices,
      });
      await call('vms.start', vm.id);
      return vm;
    },
  };
}
