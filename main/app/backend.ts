/**
 * The composition root shared by both front doors (Electron window, web mode): open the library,
 * end engines a previous run left behind, start the service. `close()` stops every VM and closes the
 * library; `killSync()` is the last resort from a process 'exit' handler.
 */
import path from 'node:path';
import type { AppInfo } from '../api/contract.js';
import { VmService, type VmServiceOptions } from '../api/service.js';
import { seedDefaultVm } from '../library/default-vm.js';
import { loadGuests } from '../library/guests.js';
import { Library } from '../library/library.js';
import type { EngineCommand, EngineTimeouts } from '../supervisor/engine-process.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { appPaths, appVersion, guestCacheRoot } from './paths.js';

export interface BackendOptions {
  dataDir: string;
  mode: AppInfo['mode'];
  engine?: EngineCommand;
  guestsDir?: string;
  /** Where guest builds are cached (default: guestCacheRoot(dataDir)). */
  cacheDir?: string;
  timeouts?: Partial<EngineTimeouts>;
  /** Create the default Debian VM in a new, empty library (default true). */
  defaultVm?: boolean;
  /** Build/fetch a guest template's files (default: the Debian guest builder for its template). */
  prepareGuest?: VmServiceOptions['prepareGuest'];
}

export interface Backend {
  service: VmService;
  library: Library;
  close(): Promise<void>;
  killSync(): void;
}

/** How to run the engine: this same runtime (Node, or Electron acting as Node) on bin/vmstudio-engine.js. */
export function defaultEngineCommand(): EngineCommand {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
  // Developer override: run another engine script (e.g. a stand-in in UI tests).
  const script = process.env.VMSTUDIO_ENGINE_SCRIPT || appPaths.engineScript;
  return { command: process.execPath, prefix: [script], env };
}

/**
 * The default guest's builder (assets/guests/debian-riscv64/build.ts): fetches Debian's packages
 * once and caches the build under `cacheRoot` (where loadGuests looks for it). An unreachable mirror
 * becomes a message that says what to do.
 */
export function defaultGuestBuilder(cacheRoot: string): NonNullable<VmServiceOptions['prepareGuest']> {
  return {
    canPrepare: (guestId) => guestId === 'debian-riscv64',
    async prepare(_guestId, log) {
      const { ensureDefaultGuest, MirrorUnavailableError } =
        await import('../../assets/guests/debian-riscv64/build.js');
      try {
        await ensureDefaultGuest({ log, cacheDir: path.join(cacheRoot, 'guests', 'debian-riscv64') });
      } catch (e) {
        if (e instanceof MirrorUnavailableError) {
          throw new Error(
            `the Debian mirror is unreachable (${e.message}). Check the network connection, or point ` +
              'VMSTUDIO_DEBIAN_MIRROR at a reachable Debian mirror, then start the VM again.',
          );
        }
        throw e;
      }
    },
  };
}

export async function createBackend(options: BackendOptions): Promise<Backend> {
  const library = Library.open(path.join(options.dataDir, 'library.db'));
  try {
    const leftovers = await Supervisor.cleanupOrphans(path.join(options.dataDir, 'run'));
    for (const vmId of leftovers)
      library.log(vmId, 'crash', 'Ended an engine left running by a previous VM Studio session');
  } catch (e) {
    library.close();
    throw e;
  }
  const guestsDir = options.guestsDir ?? appPaths.guests;
  const cacheRoot = options.cacheDir ?? guestCacheRoot(options.dataDir);
  const service = new VmService(library, {
    dataDir: options.dataDir,
    mode: options.mode,
    version: appVersion(),
    supervisor: {
      engine: options.engine ?? defaultEngineCommand(),
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    },
    guests: () => loadGuests(guestsDir, cacheRoot),
    prepareGuest: options.prepareGuest ?? defaultGuestBuilder(cacheRoot),
  });
  service.reconcileSnapshots();
  if (options.defaultVm !== false) {
    try {
      await seedDefaultVm(library, loadGuests(guestsDir, cacheRoot), (req) =>
        service.handlers['vms.create'](req),
      );
    } catch (e) {
      library.log(null, 'created', `Could not create the default VM: ${(e as Error).message}`);
    }
  }
  let closed: Promise<void> | null = null;
  return {
    service,
    library,
    close: () => {
      closed ??= (async () => {
        try {
          await service.shutdown();
        } finally {
          library.close();
        }
      })();
      return closed;
    },
    killSync: () => service.supervisor.killAllSync(),
  };
}
