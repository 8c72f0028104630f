/**
 * `send-key` and `query-mice` (QEMU's ui/input-legacy.c and ui/input.c).
 *
 * send-key presses its keys in order and releases them in reverse, `hold-time` ms apart (QEMU's
 * default spacing is 10 ms). As in QEMU, the first press goes out at once and the rest wait in a
 * keyboard queue (at most 1024 entries, then new keys are dropped); the command returns before they
 * are delivered. The queue waits while the VM is paused (QEMU runs it on the virtual clock).
 */
import { onQomRootReset } from '../qom/object.js';
import { registerHmpCommand, registerHmpInfo } from '../monitor/hmp.js';
import {
  QKeyCode_lookup,
  type KeyValue,
  type MouseInfo,
  type QKeyCode,
} from '../qapi/generated/qapi-types.js';
import { INPUT_EVENT_MASK, inputHandlers, inputSendKey, keyNumberToQcode, vmTakesInput } from './input.js';

/** QEMU's kbd_default_delay_ms and queue_limit. */
const KBD_DEFAULT_DELAY_MS = 10;
const QUEUE_LIMIT = 1024;
/** How often a queue that waits for a paused VM looks again. */
const PAUSED_POLL_MS = 50;

type QueueEntry = { delayMs: number } | { key: KeyValue; down: boolean };

let queue: QueueEntry[] = [];
let timer: ReturnType<typeof setTimeout> | null = null;

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

// ---- HMP: sendkey, info mice --------------------------------------------------------------------

const SENDKEY_USAGE = 'Try "help sendkey" for more information\n';

/** One key of an HMP `sendkey` list: a QKeyCode name, `<` (less), or a 0x-prefixed key number. */
function parseHmpKey(name: string): KeyValue | null {
  if (name === '<') return { type: 'qcode', data: 'less' };
  if (name.startsWith('0x')) {
    return /^0x[0-9a-fA-F]+$/.test(name) && Number(name) <= 0x7fffffff
      ? { type: 'number', data: Number(name) }
      : null;
  }
  return (QKeyCode_lookup as readonly string[]).includes(name)
    ? { type: 'qcode', data: name as QKeyCode }
    : null;
}

/** `sendkey keys [hold_ms]`, e.g. `sendkey ctrl-alt-f1` (QEMU's hmp_sendkey). */
export function hmpSendkey(args: string): string {
  const tokens = args
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '');
  if (tokens.length === 0) return `sendkey: string expected\n${SENDKEY_USAGE}`;
  let hold: number | undefined;
  if (tokens[1] !== undefined) {
    const m = /^[+-]?(0x[0-9a-fA-F]+|\d+)/.exec(tokens[1]);
    if (!m) return `invalid char '${tokens[1][0]}' in expression\n${SENDKEY_USAGE}`;
    if (m[0].length !== tokens[1].length || tokens.length > 2)
      return `sendkey: extraneous characters at the end of line\n${SENDKEY_USAGE}`;
    hold = parseInt(m[0], m[1]!.startsWith('0x') ? 16 : 10);
  }
  const keys: KeyValue[] = [];
  // Names are split at each '-' (so '-' itself is written 'minus').
  for (const name of tokens[0]!.split('-')) {
    const k = parseHmpKey(name);
    if (k === null) return `invalid parameter: ${name}\n`;
    keys.push(k);
  }
  qmpSendKey(hold === undefined ? { keys } : { keys, 'hold-time': hold });
  return '';
}

/** `info mice` (QEMU's hmp_info_mice). */
export function hmpInfoMice(): string {
  const mice = qmpQueryMice();
  if (mice.length === 0) return 'No mouse devices connected\n';
  return mice
    .map((m) => `${m.current ? '*' : ' '} Mouse #${m.index}: ${m.name}${m.absolute ? ' (absolute)' : ''}\n`)
    .join('');
}

registerHmpCommand({
  name: 'sendkey',
  params: 'keys [hold_ms]',
  help: "send keys to the VM (e.g. 'sendkey ctrl-alt-f1', default hold time=100 ms)",
  takesArgs: true,
  handler: (args) => hmpSendkey(args),
});
registerHmpInfo('mice', 'show which guest mouse is receiving events', () => hmpInfoMice());
