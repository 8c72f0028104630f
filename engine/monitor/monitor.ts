/**
 * Monitor-wide state (QEMU's monitor/monitor.c): the list of monitors, the QMP command table they
 * dispatch to, and QAPI event broadcast with QEMU's rate limiting.
 *
 * Events go to every QMP monitor that finished capability negotiation. Guest-triggerable events are
 * throttled to one per second per (event, key) as monitor_qapi_event_conf says: the first is sent at
 * once, later ones within the window are held and only the newest is sent when the window ends.
 */
import { type QDict, type QObject, qdict } from '../qobject/qobject.js';
import type { QmpCommandList } from '../qapi/qmp-dispatch.js';

/** What the event broadcaster needs from a QMP monitor. */
export interface EventSink {
  /** True once qmp_capabilities succeeded (QEMU: commands != &qmp_cap_negotiation_commands). */
  readonly negotiated: boolean;
  sendEvent(ev: QDict): void;
}

const monitors: EventSink[] = [];

export function monitorListAdd(m: EventSink): void {
  if (!monitors.includes(m)) monitors.unshift(m); // QTAILQ_INSERT_HEAD, as monitor_list_append
}

export function monitorListRemove(m: EventSink): void {
  const i = monitors.indexOf(m);
  if (i >= 0) monitors.splice(i, 1);
}

export function monitorList(): readonly EventSink[] {
  return monitors;
}

// ---- the QMP command table (QEMU's global qmp_commands) ----

let qmpCommands: QmpCommandList = new Map();

/** Install the command table (normally qmpCommandTable(handlers) from the generated code). */
export function setQmpCommands(cmds: QmpCommandList): void {
  qmpCommands = cmds;
}

export function getQmpCommands(): QmpCommandList {
  return qmpCommands;
}

// ---- events ----

/** monitor_qapi_event_conf: minimum interval in ms between two events of a kind. */
const EVENT_RATE_MS: Record<string, number> = {
  RTC_CHANGE: 1000,
  WATCHDOG: 1000,
  BALLOON_CHANGE: 1000,
  QUORUM_REPORT_BAD: 1000,
  QUORUM_FAILURE: 1000,
  VSERPORT_CHANGE: 1000,
  MEMORY_DEVICE_SIZE_CHANGE: 1000,
};

/** Data member that tells instances of a throttled event apart (qapi_event_throttle_equal). */
const EVENT_THROTTLE_KEY: Record<string, string> = {
  VSERPORT_CHANGE: 'id',
  QUORUM_REPORT_BAD: 'node-name',
  MEMORY_DEVICE_SIZE_CHANGE: 'qom-path',
};

interface ThrottleState {
  timer: NodeJS.Timeout;
  /** The newest event held back during the window, if any. */
  pending: QDict | null;
}

const throttled = new Map<string, ThrottleState>();

/** Wall clock, replaceable by tests. */
const wallClockUs = (): number => Math.floor((performance.timeOrigin + performance.now()) * 1000);
let clock: () => number = wallClockUs;

/** Test hook: a clock in microseconds since the epoch. */
export function setEventClock(us: (() => number) | null): void {
  clock = us ?? wallClockUs;
}

/** qmp_event_build_dict: {"timestamp": {...}, "event": name, "data": ...}. */
export function buildEvent(name: string, data?: QDict): QDict {
  const us = clock();
  const ev = qdict({
    timestamp: qdict({ seconds: Math.floor(us / 1e6), microseconds: us % 1e6 }),
    event: name,
  });
  if (data !== undefined) ev['data'] = data;
  return ev;
}

function broadcast(ev: QDict): void {
  for (const m of [...monitors]) {
    if (m.negotiated) m.sendEvent(ev);
  }
}

function throttleKey(name: string, data: QObject | undefined): string {
  const member = EVENT_THROTTLE_KEY[name];
  if (!member) return name;
  const v = data && typeof data === 'object' && !Array.isArray(data) ? (data as QDict)[member] : undefined;
  return `${name}\0${typeof v === 'string' ? v : ''}`;
}

function queueEvent(name: string, ev: QDict): void {
  const rate = EVENT_RATE_MS[name];
  if (!rate) {
    broadcast(ev);
    return;
  }
  const key = throttleKey(name, ev['data']);
  const st = throttled.get(key);
  if (st) {
    st.pending = ev;
    return;
  }
  broadcast(ev);
  armThrottle(key, rate);
}

function armThrottle(key: string, rate: number): void {
  const st: ThrottleState = {
    pending: null,
    timer: setTimeout(() => {
      const held = st.pending;
      throttled.delete(key);
      if (held) {
        broadcast(held);
        armThrottle(key, rate);
      }
    }, rate),
  };
  st.timer.unref?.();
  throttled.set(key, st);
}

// qapi_event_emit is not reentrant in QEMU; events raised while broadcasting are queued.
const eventQueue: Array<[string, QDict]> = [];
let emitting = false;

/** Send an event to all monitors (qapi_event_emit); `data` is omitted for events without members. */
export function qapiEventEmit(name: string, data?: QDict): void {
  eventQueue.push([name, buildEvent(name, data)]);
  if (emitting) return;
  emitting = true;
  try {
    while (eventQueue.length > 0) {
      const [n, ev] = eventQueue.shift()!;
      queueEvent(n, ev);
    }
  } finally {
    emitting = false;
  }
}

/** Forget throttling state (tests, shutdown). */
export function resetEventThrottling(): void {
  for (const st of throttled.values()) clearTimeout(st.timer);
  throttled.clear();
}
