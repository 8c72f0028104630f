/**
 * The composition root shared by both front doors (Electron window, web mode): open the library,
 * end engines a previous run left behind, start the service. `close()` stops every VM and closes the
 * library; `killSync()` is the last resort from a process 'exit' handler.
 */
import path from 'node:path';
import type { AppInfo } from '../api/contract.js';
import { VmService } from '../api/service.js';
import { loadGuests } from '../library/guests.js';
import { Library } from '../library/library.js';
import type { EngineCommand, EngineTimeouts } from '../supervisor/engine-process.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { appPaths, appVersion } from './paths.js';

export interface BackendOptions {
  dataDir: string;
  mode: AppInfo['mode'];
  engine?: EngineCommand;
  guestsDir?: string;
  timeouts?: Partial<EngineTimeouts>;
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
  const service = new VmService(library, {
    dataDir: options.dataDir,
    mode: options.mode,
    version: appVersion(),
    supervisor: {
      engine: options.engine ?? defaultEngineCommand(),
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    },
    guests: () => loadGuests(guestsDir),
  });
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
