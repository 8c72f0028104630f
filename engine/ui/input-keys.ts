/**
 * `send-key` and `query-mice` (QEMU's ui/input-legacy.c and ui/input.c).
 *
 * send-key presses its keys in order and releases them in reverse, `hold-time` ms apart (QEMU's
 * default spacing is 10 ms). As in QEMU, the first press goes out at once and the rest wait in a
 * keyboard queue (at most 1024 entries, then new keys are dropped); the command returns before they
 * are delivered. The queue waits while the VM is paused (QEMU runs it on the virtual clock).
 */
import { onQomRootReset } from '../qom/object.js';
import { runstateCheck, runstateIsRunning } from '../system/runstate.js';
import type { KeyValue, MouseInfo } from '../qapi/generated/qapi-types.js';
import { INPUT_EVENT_MASK, inputHandlers, inputSendKey, keyNumberToQcode } from './input.js';

/** QEMU's kbd_default_delay_ms and queue_limit. */
const KBD_DEFAULT_DELAY_MS = 10;
const QUEUE_LIMIT = 1024;
/** How often a queue that waits for a paused VM looks again. */
const PAUSED_POLL_MS = 50;

type QueueEntry = { delayMs: number } | { key: KeyValue; down: boolean };

let queue: QueueEntry[] = [];
let timer: ReturnType<typeof setTimeout> | null = null;

const vmTakesInput = () => runstateIsRunning() || runstateCheck('suspended');

onQomRootReset(() => {
  queue = [];
  if (timer) clearTimeout(timer);
  timer = null;
});

function deliver(key: KeyValue, down: boolean): void {
  inputSendKey(key.type === 'number' ? keyNumberToQcode(key.data) : key.data, down);
}

/** qemu_input_event_send_key(): at once while nothing waits, else behind the queued keys. */
function sendKey(key: KeyValue, down: boolean): void {
  if (queue.length === 0) deliver(key, down);
  else if (queue.length < QUEUE_LIMIT) queue.push({ key, down });
}

/** qemu_input_event_send_key_delay(): later keys wait `ms` (0: the default spacing). */
function sendKeyDelay(ms: number): void {
  if (!vmTakesInput() || queue.length >= QUEUE_LIMIT) return;
  const delayMs = ms > 0 ? ms : KBD_DEFAULT_DELAY_MS;
  queue.push({ delayMs });
  // A delay that heads the queue starts its wait at once; later ones when they reach the head.
  if (queue.length === 1) timer = setTimeout(processQueue, delayMs);
}

/**
 * qemu_input_queue_process(): the delay at the head has passed: deliver the keys behind it up to the
 * next delay, whose wait starts then.
 */
function processQueue(): void {
  timer = null;
  if (!vmTakesInput()) {
    timer = setTimeout(processQueue, PAUSED_POLL_MS);
    return;
  }
  queue.shift();
  for (let e = queue[0]; e !== undefined; e = queue[0]) {
    if ('delayMs' in e) {
      timer = setTimeout(processQueue, e.delayMs);
      return;
    }
    queue.shift();
    deliver(e.key, e.down);
  }
}

/** QMP send-key. */
export function qmpSendKey(args: { keys: KeyValue[]; 'hold-time'?: number }): void {
  const hold = args['hold-time'] ?? 0;
  for (const k of args.keys) {
    sendKey(k, true);
    sendKeyDelay(hold);
  }
  for (const k of [...args.keys].reverse()) {
    sendKey(k, false);
    sendKeyDelay(hold);
  }
}

/**
 * QMP query-mice: every handler that takes pointer motion; the one first in line (receiving events)
 * is current. Listed last-registered first, as QEMU builds the list by prepending.
 */
export function qmpQueryMice(): MouseInfo[] {
  const out: MouseInfo[] = [];
  let current = true;
  for (const s of inputHandlers()) {
    if (!(s.handler.mask & (INPUT_EVENT_MASK.rel | INPUT_EVENT_MASK.abs))) continue;
    out.unshift({
      name: s.handler.name,
      index: s.id,
      current,
      absolute: (s.handler.mask & INPUT_EVENT_MASK.abs) !== 0,
    });
    current = false;
  }
  return out;
}
