/**
 * Entry point of the vmstudio-engine process (QEMU's softmmu/main.c): wire the subsystems together
 * (QMP command table, events, HMP info commands, signals), run qemu_init, then live on Node's event
 * loop, which is our main loop, until a shutdown request makes the process exit.
 */
import { QapiEvents } from '../qapi/generated/qapi-events.js';
import './modules.js';
import { qemuInit, PROG, VlError, type VlIo } from './vl.js';
import { engineCommandTable } from './qmp-commands.js';
import { setQmpCommands, qapiEventEmit } from '../monitor/monitor.js';
import { registerHmpInfo } from '../monitor/hmp.js';
import {
  setRunStateEventHook,
  setRunStateHooks,
  qemuSystemShutdownRequest,
  type ShutdownCause,
} from './runstate.js';
import { onDeviceDeleted, qbusResetAll } from '../hw/core/qdev-core.js';
import { sysbusGetDefault } from '../hw/core/sysbus.js';
import { formatQtree, qdevPrintDevinfos } from '../hw/core/qdev-monitor.js';
import { formatQomTree } from '../qom/qom-hmp-cmds.js';
import { qmpQueryName, qmpQueryUuid } from './guest-identity.js';
import { chardevDeleteAll } from '../chardev/char-registry.js';
import { jobCancelSyncAll } from '../job-cleanup.js';
import { QapiError } from '../qapi/error.js';

const stdio: VlIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** error_report(): "prog: location: message" plus the hint lines. */
export function formatError(e: VlError | QapiError): string {
  const prefix = e instanceof VlError && e.location ? `${PROG}: ${e.location}: ` : `${PROG}: `;
  let out = '';
  if (e instanceof VlError) for (const b of e.before) out += `${prefix}${b}\n`;
  out += `${prefix}${e.message}\n`;
  if (e.hint) out += e.hint;
  return out;
}

/** Subsystem wiring that QEMU does with module init and global hooks. */
function wireSubsystems(onExit: (cause: ShutdownCause) => void): void {
  setQmpCommands(engineCommandTable());
  setRunStateEventHook((event, data) => qapiEventEmit(event, data));
  const events = new QapiEvents(qapiEventEmit);
  onDeviceDeleted((ev) => events.deviceDeleted(ev.device === undefined ? { path: ev.path } : ev));
  setRunStateHooks({
    machineReset: () => qbusResetAll(sysbusGetDefault()),
    exit: onExit,
  });
  registerHmpInfo('qtree', 'show device tree', () => formatQtree());
  registerHmpInfo('qdm', 'show qdev device model list', () => qdevPrintDevinfos(true));
  registerHmpInfo(
    'qom-tree',
    'show QOM composition tree',
    (args) => formatQomTree(args.trim() || undefined),
    '[path]',
  );
  registerHmpInfo('name', 'show the current VM name', () => {
    const n = qmpQueryName().name;
    return n === undefined ? '' : `${n}\n`;
  });
  registerHmpInfo('uuid', 'show the current VM UUID', () => `${qmpQueryUuid().UUID}\n`);
}

/** Run the engine; resolves with the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  wireSubsystems(() => {
    // qemu_cleanup(): jobs are dismissed first (JOB_STATUS_CHANGE "null" right after SHUTDOWN).
    const jobsDone = jobCancelSyncAll();
    // Let monitors flush the reply to `quit` and the SHUTDOWN event before leaving.
    setImmediate(() => {
      void jobsDone.then(chardevDeleteAll).finally(() => resolveExit(0));
    });
  });
  for (const [sig, num] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
    ['SIGHUP', 1],
  ] as const) {
    process.on(sig, () => {
      process.stderr.write(`${PROG}: terminating on signal ${num}\n`);
      qemuSystemShutdownRequest('host-signal');
    });
  }
  // The main loop runs until a shutdown request, even when nothing else (no monitor, no guest
  // timer) holds Node's event loop open, as QEMU's does.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  void exited.finally(() => clearInterval(keepAlive));
  try {
    const r = await qemuInit(argv, stdio);
    if (r.kind === 'exit') {
      clearInterval(keepAlive);
      return r.code;
    }
  } catch (e) {
    clearInterval(keepAlive);
    if (e instanceof VlError || e instanceof QapiError) {
      process.stderr.write(formatError(e));
      return 1;
    }
    throw e;
  }
  return exited;
}
