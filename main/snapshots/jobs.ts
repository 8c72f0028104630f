/**
 * Run an engine job (snapshot-save / snapshot-load / snapshot-delete) to its end: start it, follow
 * its JOB_STATUS_CHANGE events, and once it is concluded read its outcome from query-jobs and dismiss
 * it (the snapshot jobs are manual-dismiss). A failed job rejects with the engine's own error text;
 * an engine that exits while a job runs rejects every job of that VM.
 */
import type { QmpClientApi } from '../generated/qmp-client.js';
import { QmpError, type QmpEvent } from '../qmp/client.js';

/** Job statuses in the order a successful job passes them (for progress). */
export const JOB_STATUS_ORDER = ['created', 'running', 'waiting', 'pending', 'concluded'] as const;

/** How far (0..1) a job with this status has come. */
export function jobFraction(status: string): number {
  const i = JOB_STATUS_ORDER.indexOf(status as (typeof JOB_STATUS_ORDER)[number]);
  if (i < 0) return status === 'aborting' || status === 'null' ? 1 : 0;
  return (i + 1) / JOB_STATUS_ORDER.length;
}

interface Waiter {
  vmId: string;
  onStatus(status: string): void;
  concluded(): void;
  fail(e: Error): void;
}

export class JobTracker {
  private readonly waiters = new Map<string, Waiter>();
  private seq = 0;

  /** A job id unique within this app run (QEMU's id_wellformed: a letter first). */
  newJobId(kind: string): string {
    return `vmstudio-${kind}-${++this.seq}`;
  }

  private key(vmId: string, jobId: string): string {
    return `${vmId}\u0000${jobId}`;
  }

  onQmpEvent(vmId: string, ev: QmpEvent): void {
    if (ev.event !== 'JOB_STATUS_CHANGE') return;
    const id = ev.data.id;
    const status = ev.data.status;
    if (typeof id !== 'string' || typeof status !== 'string') return;
    const w = this.waiters.get(this.key(vmId, id));
    if (!w) return;
    w.onStatus(status);
    if (status === 'concluded') w.concluded();
  }

  /** The VM's engine is gone: its jobs can never finish. */
  onExit(vmId: string, message: string): void {
    for (const w of [...this.waiters.values()])
      if (w.vmId === vmId) w.fail(new QmpError('GenericError', message, 'job'));
  }

  /**
   * Start a job with `start` (which sends the command) and wait for its end. `api` is asked again at
   * the end, since the connection object may be replaced while the job runs.
   */
  async run(
    vmId: string,
    jobId: string,
    command: string,
    api: () => QmpClientApi,
    start: () => Promise<void>,
    onStatus: (status: string) => void = () => {},
  ): Promise<void> {
    const key = this.key(vmId, jobId);
    let settle!: { resolve(): void; reject(e: Error): void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    this.waiters.set(key, {
      vmId,
      onStatus,
      concluded: () => settle.resolve(),
      fail: (e) => settle.reject(e),
    });
    try {
      await start();
      await done;
    } finally {
      this.waiters.delete(key);
    }
    const qmp = api();
    const info = (await qmp.queryJobs()).find((j) => j.id === jobId);
    await qmp.jobDismiss({ id: jobId }).catch(() => undefined);
    if (info?.error) throw new QmpError('GenericError', info.error, command);
  }
}
