/**
 * Background jobs as QMP sees them (QEMU's job.c, the subset snapshot jobs use): a job has an id, a
 * type and a status that moves created -> running -> waiting -> pending -> concluded on success or
 * created -> running -> aborting -> concluded on failure, each change announced by JOB_STATUS_CHANGE.
 * Snapshot jobs are manual-dismiss: they stay "concluded" in query-jobs until job-dismiss, which
 * moves them to "null" and removes them.
 */
import { QapiEvents } from '../qapi/generated/qapi-events.js';
import { QapiError } from '../qapi/error.js';
import { qdict } from '../qobject/qobject.js';
import { qapiEventEmit } from '../monitor/monitor.js';
import type { JobInfo, JobStatus, JobType } from '../qapi/generated/qapi-types.js';

interface Job {
  id: string;
  type: JobType;
  status: JobStatus;
  progress: number;
  total: number;
  error: string | null;
}

const jobs: Job[] = [];

type EventSink = (event: string, data: ReturnType<typeof qdict>) => void;
let emit: EventSink = (e, d) => qapiEventEmit(e, d);

export function setJobEventSink(fn: EventSink | null): void {
  emit = fn ?? ((e, d) => qapiEventEmit(e, d));
}

const events = new QapiEvents((name, data) => emit(name, data ?? qdict()));

function setStatus(job: Job, status: JobStatus): void {
  job.status = status;
  events.jobStatusChange({ id: job.id, status });
}

/** id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
function idWellformed(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9._-]*$/.test(id);
}

/**
 * Create and start a job running `work`. Returns after "created" and "running" were announced (as
 * the QMP command does); `work` runs afterwards.
 */
export function jobStart(id: string, type: JobType, work: () => Promise<void>): Promise<void> {
  if (!idWellformed(id)) throw new QapiError(`Invalid job ID '${id}'`);
  if (jobs.some((j) => j.id === id)) throw new QapiError(`Job ID '${id}' already in use`);
  const job: Job = { id, type, status: 'undefined', progress: 0, total: 1, error: null };
  jobs.unshift(job); // QEMU's job list is newest first (QLIST_INSERT_HEAD), as query-jobs shows it
  setStatus(job, 'created');
  setStatus(job, 'running');
  return new Promise<void>((resolve) => {
    setImmediate(() => {
      work().then(
        () => {
          job.progress = job.total;
          setStatus(job, 'waiting');
          setStatus(job, 'pending');
          setStatus(job, 'concluded');
          resolve();
        },
        (e: unknown) => {
          job.progress = job.total;
          job.error = e instanceof Error ? e.message : String(e);
          setStatus(job, 'aborting');
          setStatus(job, 'concluded');
          resolve();
        },
      );
    });
  });
}

export function qmpQueryJobs(): JobInfo[] {
  return jobs.map((j) => {
    const info: JobInfo = {
      id: j.id,
      type: j.type,
      status: j.status,
      'current-progress': j.progress,
      'total-progress': j.total,
    };
    if (j.error !== null) info.error = j.error;
    return info;
  });
}

export function qmpJobDismiss(args: { id: string }): void {
  const job = jobs.find((j) => j.id === args.id);
  if (!job) throw new QapiError('Job not found');
  if (job.status !== 'concluded') {
    throw new QapiError(`Job '${job.id}' in state '${job.status}' cannot accept command verb 'dismiss'`);
  }
  setStatus(job, 'null');
  jobs.splice(jobs.indexOf(job), 1);
}

export function jobsResetForTests(): void {
  jobs.length = 0;
}
