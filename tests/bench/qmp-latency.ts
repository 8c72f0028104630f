/**
 * QMP responsiveness while the guest keeps its vCPU busy: a shell busy loop runs in the guest and
 * `query-status` is sent N times, each after the previous reply, timing request to reply on the host.
 * An engine whose CPU loop does not yield to its event loop often enough shows it in the tail.
 */
import type { BootedGuest } from './guest-session.js';
import { percentile } from './report.js';

export interface QmpLatency {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export function summarize(ms: number[]): QmpLatency {
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms), count: ms.length };
}

/** Round trips of `query-status` in ms, one at a time. */
export async function queryStatusLatencies(g: BootedGuest, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = `lat${i}`;
    const t = performance.now();
    g.qmp.send(JSON.stringify({ execute: 'query-status', id }) + '\n');
    const r = await g.qmp.reply(id, 60_000);
    out.push(performance.now() - t);
    if (!('return' in r)) throw new Error(`query-status failed: ${JSON.stringify(r)}`);
  }
  return out;
}

/** Latency of `count` query-status while a busy loop keeps the guest CPU-bound. */
export async function qmpLatencyUnderLoad(g: BootedGuest, count = 200): Promise<QmpLatency> {
  const started = await g.sh('while :; do :; done >/dev/null 2>&1 & echo busy=$!');
  const pid = /busy=(\d+)/.exec(started)?.[1];
  if (!pid) throw new Error(`cannot start the guest busy loop:\n${started}`);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    return summarize(await queryStatusLatencies(g, count));
  } finally {
    await g.sh(`kill ${pid}; wait ${pid} 2>/dev/null; echo stopped`, 300_000);
  }
}
