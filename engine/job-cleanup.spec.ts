import { afterEach, describe, expect, it } from 'vitest';
import {
  jobStart,
  jobsResetForTests,
  qmpJobDismiss,
  qmpQueryJobs,
  setJobEventSink,
} from './migration/job.js';
import { jobCancelSyncAll } from './job-cleanup.js';

const events: string[] = [];
setJobEventSink((_e, d) => events.push(`${String(d['id'])} ${String(d['status'])}`));

afterEach(() => {
  jobsResetForTests();
  events.length = 0;
});

describe('jobCancelSyncAll (job_cancel_sync_all at exit)', () => {
  it('dismisses concluded jobs at once, newest first; dismissed ones are gone already', async () => {
    await jobStart('a1', 'snapshot-save', async () => undefined);
    await jobStart('b2', 'snapshot-load', async () => {
      throw new Error('boom');
    });
    await jobStart('c3', 'snapshot-delete', async () => undefined);
    qmpJobDismiss({ id: 'b2' });
    events.length = 0;
    const done = jobCancelSyncAll();
    // Synchronous part: the events are out before anything else runs (right after SHUTDOWN).
    expect(events).toEqual(['c3 null', 'a1 null']);
    await done;
    expect(qmpQueryJobs()).toEqual([]);
  });

  it('waits for a running job to conclude, then dismisses it', async () => {
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const started = jobStart('slow', 'snapshot-save', () => gate); // resolves once the job concluded
    let settled = false;
    const done = jobCancelSyncAll().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    expect(events.at(-1)).toBe('slow running');
    finish();
    await started;
    await done;
    expect(events.slice(-4)).toEqual(['slow waiting', 'slow pending', 'slow concluded', 'slow null']);
  });

  it('returns at once when there are no jobs', async () => {
    await jobCancelSyncAll();
    expect(events).toEqual([]);
  });
});
