/**
 * Host input routing (QEMU's ui/input.c, the part the virtio input devices need): a display or QMP
 * `input-send-event` sends key, button and pointer events without knowing which device takes them.
 *
 * Events have the shapes of QEMU's QAPI InputEvent union (`{ type: 'key', data: { key, down } }`,
 * `btn`, `rel`, `abs`), so QMP `input-send-event` passes its arguments straight through. Values are
 * not scaled on the way: absolute coordinates are already in INPUT_EVENT_ABS_MIN..MAX (the range the
 * tablet advertises), as QEMU's QMP path leaves them.
 *
 * Devices register a handler with a mask of event kinds; an event goes to the first handler whose
 * mask matches, and a device that the guest driver brings up (DRIVER_OK) moves to the front, as in
 * QEMU: the most recently activated keyboard gets the keys. `inputEventSync()` ends a report (each handler
 * that got events since the last sync sends its SYN_REPORT).
 *
 * Consoles: the engine has no display yet, so there are no consoles to bind to. A device's
 * `display`/`head` properties are kept but do not restrict routing (QEMU 7.2 ignores a failed bind
 * the same way), and `inputSendEvents` with a `device` fails as QEMU does for a device that is not a
 * display.
 */
import { QapiError, errorSetg } from '../qapi/error.js';
import { onQomRootReset } from '../qom/object.js';
import { qdevFindRecursive } from '../hw/core/qdev-core.js';
import { sysbusGetDefault } from '../hw/core/sysbus.js';
import { runstateCheck, runstateIsRunning } from '../system/runstate.js';
import { QKEYCODE_TO_LINUX, QNUM_TO_QKEYCODE } from './input-keymap.js';
import type { InputEvent, InputEventKind, QKeyCode } from '../qapi/generated/qapi-types.js';

/** The QAPI types of qapi/ui.json: events arrive from QMP exactly in these shapes. */
export type {
  InputAxis,
  InputButton,
  InputEvent,
  InputEventKind,
  KeyValue,
  QKeyCode,
} from '../qapi/generated/qapi-types.js';

export const INPUT_EVENT_MASK: Readonly<Record<InputEventKind, number>> = { key: 1, btn: 2, rel: 4, abs: 8 };

/** Absolute coordinates span this range (INPUT_EVENT_ABS_MIN/MAX). */
export const INPUT_EVENT_ABS_MIN = 0;
export const INPUT_EVENT_ABS_MAX = 0x7fff;

/** Keyboard LED bits a handler reports back (QEMU_*_LOCK_LED). */
export const QEMU_SCROLL_LOCK_LED = 1 << 0;
export const QEMU_NUM_LOCK_LED = 1 << 1;
export const QEMU_CAPS_LOCK_LED = 1 << 2;

export interface InputHandler {
  /** Shown to users (QEMU's handler names: "QEMU Virtio Keyboard"...). */
  name: string;
  /** INPUT_EVENT_MASK bits this handler takes. */
  mask: number;
  event(evt: InputEvent): void;
  sync?(): void;
}

export interface InputHandlerState {
  readonly handler: InputHandler;
  readonly id: number;
  /** Events since the last sync. */
  events: number;
}

let handlers: InputHandlerState[] = [];
let nextId = 1;
const ledListeners = new Set<(ledstate: number) => void>();

// A new QOM root means a new machine: the old devices' handlers are gone with it.
onQomRootReset(() => {
  handlers = [];
});

/** qemu_input_handler_register(): a new handler, last in line until activated. */
export function inputHandlerRegister(handler: InputHandler): InputHandlerState {
  const s: InputHandlerState = { handler, id: nextId++, events: 0 };
  handlers.push(s);
  return s;
}

/** qemu_input_handler_activate(): this handler takes events before the others. */
export function inputHandlerActivate(s: InputHandlerState): void {
  handlers = [s, ...handlers.filter((h) => h !== s)];
}

/** qemu_input_handler_deactivate(): to the back of the line. */
export function inputHandlerDeactivate(s: InputHandlerState): void {
  handlers = [...handlers.filter((h) => h !== s), s];
}

export function inputHandlerUnregister(s: InputHandlerState): void {
  handlers = handlers.filter((h) => h !== s);
}

/** Handlers in routing order (for `query-mice`-like listings and tests). */
export function inputHandlers(): readonly InputHandlerState[] {
  return handlers;
}

function findHandler(mask: number): InputHandlerState | null {
  return handlers.find((s) => (s.handler.mask & mask) !== 0) ?? null;
}

/** Host input reaches the guest only while the VM runs (or is suspended), as in QEMU. */
export const vmTakesInput = (): boolean => runstateIsRunning() || runstateCheck('suspended');

/** Linux code for a QKeyCode name, or undefined. */
export function qcodeToLinux(qcode: string): number | undefined {
  return Object.hasOwn(QKEYCODE_TO_LINUX, qcode) ? QKEYCODE_TO_LINUX[qcode] : undefined;
}

/** qemu_input_key_number_to_qcode(): unknown numbers are 'unmapped'. */
export function keyNumberToQcode(n: number): QKeyCode {
  return (QNUM_TO_QKEYCODE.get(n) as QKeyCode | undefined) ?? 'unmapped';
}

/**
 * qemu_input_event_send(): route one event (keys must be qcodes; 'sysrq' becomes 'print'). Dropped
 * while the VM is not running.
 */
export function inputEventSend(evt: InputEvent): void {
  if (evt.type === 'key' && evt.data.key.type === 'number') {
    throw new Error('input: key numbers must be converted to qcodes before sending');
  }
  if (evt.type === 'key' && evt.data.key.data === 'sysrq') {
    evt = { type: 'key', data: { key: { type: 'qcode', data: 'print' }, down: evt.data.down } };
  }
  if (!vmTakesInput()) return;
  const s = findHandler(INPUT_EVENT_MASK[evt.type]);
  if (!s) return;
  s.handler.event(evt);
  s.events++;
}

/** qemu_input_event_sync(): every handler that got events ends its report. */
export function inputEventSync(): void {
  if (!vmTakesInput()) return;
  for (const s of handlers) {
    if (!s.events) continue;
    s.handler.sync?.();
    s.events = 0;
  }
}

/** A key press or release by name, then a sync (qemu_input_event_send_key_qcode). */
export function inputSendKey(qcode: QKeyCode, down: boolean): void {
  inputEventSend({ type: 'key', data: { key: { type: 'qcode', data: qcode }, down } });
  inputEventSync();
}

/**
 * qmp_input_send_event(): check that every event has a handler, send them all, then sync. `device`
 * names the display console the events come from; there are no consoles yet.
 */
export function inputSendEvents(events: InputEvent[], opts: { device?: string; head?: number } = {}): void {
  if (opts.device !== undefined) {
    if (!qdevFindRecursive(sysbusGetDefault(), opts.device)) {
      throw new QapiError(`Device '${opts.device}' not found`, 'DeviceNotFound');
    }
    throw errorSetg(`Device ${opts.device} (head ${opts.head ?? 0}) is not bound to a QemuConsole`);
  }
  if (!vmTakesInput()) throw errorSetg('VM not running');
  for (const e of events) {
    if (!findHandler(INPUT_EVENT_MASK[e.type])) {
      throw errorSetg(`Input handler not found for event type ${e.type}`);
    }
  }
  for (const e of events) {
    if (e.type === 'key' && e.data.key.type === 'number') {
      // As QEMU: a key number goes through qemu_input_event_send_key_qcode(), which syncs at once.
      inputSendKey(keyNumberToQcode(e.data.key.data), e.data.down);
    } else {
      inputEventSend(e);
    }
  }
  inputEventSync();
}

/** kbd_put_ledstate(): a guest keyboard driver changed its LEDs (QEMU_*_LOCK_LED bits). */
export function inputPutLedState(ledstate: number): void {
  for (const l of [...ledListeners]) l(ledstate);
}

/** Listen to keyboard LED changes (a display shows them); returns the remover. */
export function onInputLedState(fn: (ledstate: number) => void): () => void {
  ledListeners.add(fn);
  return () => ledListeners.delete(fn);
}

/** QMP input-send-event (qapi/ui.json). */
export function qmpInputSendEvent(args: { device?: string; head?: number; events: InputEvent[] }): void {
  const opts: { device?: string; head?: number } = {};
  if (args.device !== undefined) opts.device = args.device;
  if (args.head !== undefined) opts.head = args.head;
  inputSendEvents(args.events, opts);
}
