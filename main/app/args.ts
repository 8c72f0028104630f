/** The app's command line: `vmstudio [--web] [--port N] [--data-dir DIR] [--no-default-vm]`. */
import os from 'node:os';
import path from 'node:path';

export interface AppArgs {
  web: boolean;
  /** 0 = any free port. */
  port: number;
  dataDir: string;
  help: boolean;
  /**
   * Create the default Debian VM when the library is new and empty. Off with `--no-default-vm` or
   * VMSTUDIO_NO_DEFAULT_VM=1 (tests that need an empty library).
   */
  defaultVm: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `usage: vmstudio [--web] [--port N] [--data-dir DIR] [--no-default-vm]
  --web            serve the UI on 127.0.0.1 for a browser instead of opening a window
  --port N         web mode port (0 or none: any free port)
  --data-dir DIR   where the VM library and VM files live (default: $VMSTUDIO_DATA_DIR,
                   else the platform's application-data folder)
  --no-default-vm  do not create the ready-to-run Debian VM in a new, empty library
                   (also: VMSTUDIO_NO_DEFAULT_VM=1)
`;

/** The platform's per-user application-data folder for VM Studio. */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home = os.homedir(),
): string {
  const join = platform === 'win32' ? path.win32.join : path.posix.join;
  switch (platform) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'VM Studio');
    case 'win32':
      return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'VM Studio');
    default:
      return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'VM Studio');
  }
}

export function parseAppArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AppArgs {
  const noDefault = env.VMSTUDIO_NO_DEFAULT_VM;
  const out: AppArgs = {
    web: false,
    port: 0,
    dataDir: '',
    help: false,
    defaultVm: !(noDefault !== undefined && noDefault !== '' && noDefault !== '0'),
  };
  let dataDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const takeValue = (): string => {
      if (value !== undefined) return value;
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`vmstudio: option '${arg}' requires an argument`);
      i++;
      return next;
    };
    switch (arg) {
      case '--web':
        out.web = true;
        break;
      case '--port': {
        const v = takeValue();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n > 65535)
          throw new UsageError(`vmstudio: --port: '${v}' is not a valid port number`);
        out.port = n;
        break;
      }
      case '--data-dir': {
        const v = takeValue();
        if (v === '') throw new UsageError('vmstudio: --data-dir: the folder name is empty');
        dataDir = v;
        break;
      }
      case '--no-default-vm':
        out.defaultVm = false;
        break;
      case '-h':
      case '--help':
        out.help = true;
        break;
      default:
        // Chromium/Electron add switches of their own (e.g. --no-sandbox); leave those to them.
        if (process.versions.electron && arg.startsWith('--')) break;
        throw new UsageError(`vmstudio: unknown option '${argv[i]}'\n${USAGE}`);
    }
  }
  out.dataDir = path.resolve(dataDir ?? (env.VMSTUDIO_DATA_DIR || defaultDataDir(env)));
  return out;
}
