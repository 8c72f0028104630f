/**
 * App entry (`bin/vmstudio.js`): open the Electron window where Electron is installed, otherwise, or
 * with `--web`, serve the UI on 127.0.0.1. Web mode prints exactly one line with the address.
 */
import { spawn } from 'node:child_process';
import { LibraryError } from '../library/errors.js';
import { parseAppArgs, USAGE, UsageError, type AppArgs } from './args.js';
import { findElectronBinary, insideElectron } from './electron-binary.js';
import { appPaths } from './paths.js';
import { startWebApp } from './web-mode.js';

async function runWeb(args: AppArgs): Promise<void> {
  const app = await startWebApp(args);
  process.stdout.write(`VM Studio web UI: ${app.server.url}\n`);
  let quitting = false;
  const quit = (code: number): void => {
    if (quitting) return;
    quitting = true;
    const hardStop = setTimeout(() => {
      app.backend.killSync();
      process.exit(code);
    }, 60_000);
    hardStop.unref();
    void app.close().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => quit(130));
  // A requested shutdown that completes is a clean exit.
  process.on('SIGTERM', () => quit(0));
  process.on('SIGHUP', () => quit(129));
  // Whatever path ends the process, no engine outlives it.
  process.on('exit', () => app.backend.killSync());
}

/** Launch the Electron binary on this app; its main process is main/electron/entry.ts. */
function runElectron(exe: string, args: AppArgs): Promise<void> {
  const child = spawn(
    exe,
    [appPaths.root, '--data-dir', args.dataDir, ...(args.defaultVm ? [] : ['--no-default-vm'])],
    {
      stdio: 'inherit',
      env: { ...process.env },
    },
  );
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.exitCode = code ?? (signal ? 1 : 0);
      resolve();
    });
  });
}

export async function main(argv: string[]): Promise<void> {
  let args: AppArgs;
  try {
    args = parseAppArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  try {
    if (insideElectron()) {
      await import('../electron/entry.js');
      return;
    }
    const electron = args.web ? null : findElectronBinary();
    if (electron) await runElectron(electron, args);
    else await runWeb(args);
  } catch (e) {
    if (e instanceof LibraryError || e instanceof Error) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
}
