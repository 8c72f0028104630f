/**
 * Live migration commands (QEMU's migration/migration.c): `migrate` / `migrate_cancel` /
 * `query-migrate` on the source, `-incoming URI|defer` / `migrate-incoming` on the destination.
 *
 * Source: `migrate` returns at once; the migration then stops the VM (finish-migrate), serializes the
 * whole machine into one stream, and sends it. Success leaves the source in "postmigrate" (paused,
 * as QEMU); failure or cancel restarts it if it was running.
 *
 * Destination: the process starts in "inmigrate", receives the whole stream, resets the machine,
 * loads it, and then runs, or stays paused when the source was paused or -S/stop asked for it (QEMU's
 * process_incoming_migration_bh rules). A refused stream prints QEMU's messages and exits with 1.
 */
import { QapiEvents } from '../qapi/generated/qapi-events.js';
import { QapiError } from '../qapi/error.js';
import { qapiEventEmit } from '../monitor/monitor.js';
import type { MigrationInfo, MigrationStats, MigrationStatus } from '../qapi/generated/qapi-types.js';
import {
  getAutostart,
  qemuSystemReset,
  runstateCheck,
  runstateGet,
  runstateIsRunning,
  runstateSet,
  vmStart,
  vmStop,
} from '../system/runstate.js';
import { parseMigrationUri, receiveStream, sendStream, type Cancellable } from './channel.js';
import { errnoText, isMigrationError } from './migration-error.js';
import { qemuLoadvmState, qemuSavevmState } from './savevm.js';
import { globalStateReceivedRunstate, globalStateStore } from './global-state.js';
import { ramStats } from './ram.js';
import { TARGET_PAGE_SIZE } from '../system/physmem.js';

interface MigrationState {
  status: MigrationStatus;
  startMs: number;
  totalMs: number;
  setupMs: number;
  downtimeMs: number;
  error: string | null;
  transferred: number;
  handle: Cancellable | null;
  vmWasRunning: boolean;
}

const s: MigrationState = {
  status: 'none',
  startMs: 0,
  totalMs: 0,
  setupMs: 0,
  downtimeMs: 0,
  error: null,
  transferred: 0,
  handle: null,
  vmWasRunning: false,
};

/** MIGRATION events are sent only with the "events" capability, off by default as in QEMU. */
let sendEvents = false;

export function setMigrationEvents(on: boolean): void {
  sendEvents = on;
}

function setStatus(status: MigrationStatus): void {
  s.status = status;
  if (sendEvents) new QapiEvents(qapiEventEmit).migration({ status });
}

function isActive(st: MigrationStatus): boolean {
  return st === 'setup' || st === 'active' || st === 'cancelling' || st === 'device';
}

function ramInfo(): MigrationStats {
  const secs = Math.max(s.totalMs, 1) / 1000;
  return {
    transferred: s.transferred,
    remaining: s.status === 'completed' ? 0 : Math.max(ramStats.total - ramStats.normalBytes, 0),
    total: ramStats.total,
    duplicate: ramStats.duplicate,
    skipped: 0,
    normal: ramStats.normal,
    'normal-bytes': ramStats.normalBytes,
    'dirty-pages-rate': 0,
    mbps: s.status === 'completed' ? Math.round(((s.transferred * 8) / 1e6 / secs) * 1000) / 1000 : 0,
    'dirty-sync-count': s.status === 'completed' ? 2 : 1,
    'postcopy-requests': 0,
    'page-size': TARGET_PAGE_SIZE,
    'multifd-bytes': 0,
    'pages-per-second': 0,
    'precopy-bytes': 0,
    'downtime-bytes': s.transferred,
    'postcopy-bytes': 0,
    'dirty-sync-missed-zero-copy': 0,
  };
}

/** query-migrate: QEMU's MigrationInfo for the current state. */
export function qmpQueryMigrate(): MigrationInfo {
  switch (s.status) {
    case 'none':
      return {};
    case 'setup':
      return { status: 'setup', 'total-time': Date.now() - s.startMs };
    case 'active':
    case 'cancelling':
      return {
        status: s.status,
        'total-time': Date.now() - s.startMs,
        'setup-time': s.setupMs,
        ram: ramInfo(),
      };
    case 'completed':
      return {
        status: 'completed',
        'total-time': s.totalMs,
        downtime: s.downtimeMs,
        'setup-time': s.setupMs,
        ram: ramInfo(),
      };
    case 'failed':
      return s.error ? { status: 'failed', 'error-desc': s.error } : { status: 'failed' };
    default:
      return { status: s.status };
  }
}

/** Ends when the current outgoing migration has finished (tests and HMP wait on it). */
let finished: Promise<void> = Promise.resolve();

export function migrationFinished(): Promise<void> {
  return finished;
}

/** migrate: start an outgoing migration to `uri`. */
export function qmpMigrate(args: { uri: string; blk?: boolean; inc?: boolean; resume?: boolean }): void {
  if (args.resume) throw new QapiError('Cannot resume if there is no paused migration');
  if (args.blk || args.inc) throw new QapiError('Block migration is not supported by this engine');
  if (isActive(s.status) || incoming !== null) {
    throw new QapiError("There's a migration process in progress");
  }
  if (runstateCheck('inmigrate')) throw new QapiError('Guest is waiting for an incoming migration');
  const uri = parseMigrationUri(args.uri);
  s.status = 'none';
  s.error = null;
  s.startMs = Date.now();
  s.transferred = 0;
  s.handle = null;
  setStatus('setup');
  finished = new Promise<void>((resolve) => setImmediate(() => void runOutgoing(uri).finally(resolve)));
}

async function runOutgoing(uri: ReturnType<typeof parseMigrationUri>): Promise<void> {
  if (s.status !== 'setup') return; // cancelled before it started
  s.setupMs = Date.now() - s.startMs;
  setStatus('active');
  s.vmWasRunning = runstateIsRunning();
  globalStateStore();
  const stopAt = Date.now();
  let stream: Uint8Array;
  try {
    if (s.vmWasRunning) vmStop('finish-migrate');
    else runstateSet('finish-migrate');
    stream = qemuSavevmState();
  } catch (e) {
    finishOutgoing(e, stopAt);
    return;
  }
  try {
    await sendStream(uri, stream, (h) => {
      s.handle = h;
      if ((s.status as MigrationStatus) === 'cancelling') h.cancel();
    });
    s.transferred = stream.length;
    finishOutgoing(null, stopAt);
  } catch (e) {
    finishOutgoing(e, stopAt);
  }
}

function finishOutgoing(err: unknown, stopAt: number): void {
  s.handle = null;
  s.totalMs = Date.now() - s.startMs;
  s.downtimeMs = Date.now() - stopAt;
  if (!err) {
    setStatus('completed');
    if (runstateCheck('finish-migrate')) runstateSet('postmigrate');
    return;
  }
  if (s.status === 'cancelling') setStatus('cancelled');
  else {
    s.error = err instanceof Error ? err.message : String(err);
    setStatus('failed');
  }
  if (s.vmWasRunning) vmStart();
  else if (runstateCheck('finish-migrate')) runstateSet('postmigrate');
}

/** migrate_cancel: stop the outgoing migration (nothing happens when none runs). */
export function qmpMigrateCancel(): void {
  if (!isActive(s.status)) return;
  const wasSetup = s.status === 'setup';
  setStatus('cancelling');
  if (wasSetup) {
    setStatus('cancelled');
    return;
  }
  s.handle?.cancel();
}

// -------------------------------------------------------------------------------------------------
// Incoming

/** The -incoming argument ("defer" or a URI), or null when the process does not wait for one. */
let incomingOption: string | null = null;
let incoming: { cancel: () => void } | null = null;
let incomingStarted = false;

/** How a refused incoming stream ends the process (QEMU: error_report lines, then exit(1)). */
export type IncomingFailure = (lines: string[]) => void;

let onIncomingFailure: IncomingFailure = (lines) => {
  for (const l of lines) process.stderr.write(`vmstudio-engine: ${l}\n`);
  process.exit(1);
};

export function setIncomingFailureHandler(fn: IncomingFailure): void {
  onIncomingFailure = fn;
}

/** Resolves when the current incoming migration ended (loaded or refused). */
let incomingDone: Promise<void> = Promise.resolve();

export function incomingMigrationDone(): Promise<void> {
  return incomingDone;
}

/** vl.c: `-incoming` was given; the VM waits in "inmigrate". */
export function migrationSetIncoming(option: string): void {
  incomingOption = option;
  incomingStarted = false;
  runstateSet('inmigrate');
  if (option !== 'defer') startIncoming(option);
}

/** migrate-incoming. */
export function qmpMigrateIncoming(args: { uri: string }): void {
  if (incomingOption !== 'defer') throw new QapiError("For use with '-incoming defer'");
  if (incomingStarted) throw new QapiError('The incoming migration has already been started');
  if (!runstateCheck('inmigrate')) throw new QapiError("'-incoming' was not specified on the command line");
  startIncoming(args.uri);
}

function startIncoming(uriText: string): void {
  const uri = parseMigrationUri(uriText);
  incomingStarted = true;
  s.status = 'none';
  s.startMs = Date.now();
  setStatus('setup');
  const rx = receiveStream(uri);
  incoming = rx;
  incomingDone = rx.done.then(
    (stream) => {
      incoming = null;
      loadIncoming(stream);
    },
    (e: unknown) => {
      incoming = null;
      s.error = e instanceof Error ? e.message : String(e);
      setStatus('failed');
      onIncomingFailure([s.error]);
    },
  );
}

/** process_incoming_migration_co + _bh: load, then pick the run state. */
function loadIncoming(stream: Uint8Array): void {
  setStatus('active');
  try {
    qemuLoadvmState(stream, { resetFirst: () => qemuSystemReset('none') });
  } catch (e) {
    if (!isMigrationError(e)) throw e;
    s.error = e.message;
    setStatus('failed');
    onIncomingFailure([...e.reports, `load of migration failed: ${errnoText(e.errno)}`]);
    return;
  }
  s.transferred = stream.length;
  s.totalMs = Date.now() - s.startMs;
  setStatus('completed');
  const src = globalStateReceivedRunstate();
  if (!runstateCheck('inmigrate')) return;
  if (src === null || src === 'running') {
    if (getAutostart()) vmStart();
    else runstateSet('paused');
  } else {
    runstateSet(src);
  }
}

/** Test hook: forget all migration state. */
export function migrationResetForTests(): void {
  incoming?.cancel();
  incoming = null;
  incomingOption = null;
  incomingStarted = false;
  s.status = 'none';
  s.error = null;
  s.handle = null;
  finished = Promise.resolve();
  incomingDone = Promise.resolve();
}

export { runstateGet };
