/**
 * Jobs at process exit (QEMU's job_cancel_sync_all(), called from qemu_cleanup()): every job still
 * listed is finished and dismissed, so a client sees JOB_STATUS_CHANGE "null" for each one, including
 * concluded manual-dismiss jobs nobody dismissed (QEMU 7.2 sends these right after SHUTDOWN, before
 * the reply to `quit`, newest job first).
 *
 * Built on the job API of engine/migration/job.ts (query-jobs, job-dismiss). Unlike QEMU we do not
 * cancel a job that is still running: the engine's jobs (snapshot-save/-load/-delete) cannot stop
 * half-way, so we wait for them to conclude, then dismiss them.
 */
import { qmpJobDismiss, qmpQueryJobs } from './migration/job.js';

/** How often a still-running job is looked at again while the process waits to exit. */
const POLL_MS = 10;

/**
 * Dismiss every concluded job now (synchronously, so the events follow SHUTDOWN at once), then wait
 * for running jobs to conclude and dismiss them too, in the job list's order (newest first, as QEMU).
 */
export async function jobCancelSyncAll(): Promise<void> {
  for (;;) {
    const jobs = qmpQueryJobs();
    if (jobs.length === 0) return;
    for (const j of jobs) if (j.status === 'concluded') qmpJobDismiss({ id: j.id });
    if (jobs.every((j) => j.status === 'concluded')) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
