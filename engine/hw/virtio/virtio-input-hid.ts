/**
 * virtio-keyboard-device, virtio-mouse-device and virtio-tablet-device (QEMU's
 * hw/input/virtio-input-hid.c) on the abstract virtio-input-hid-device.
 *
 * Each device registers an input handler (ui/input.ts) for the event kinds it takes
 * (keyboard: keys; mouse: buttons + relative motion; tablet: buttons + absolute position) and turns
 * host events into Linux input events: keys through QEMU 7.2's qcode -> Linux map, buttons to
 * BTN_LEFT/RIGHT/MIDDLE/SIDE/EXTRA/GEAR_UP/GEAR_DOWN, the wheel to REL_WHEEL (`wheel-axis`), axes
 * to REL_X/Y or ABS_X/Y (0..32767). The guest's LED changes come back on the status queue.
 *
 * The config entries are QEMU 7.2's, fixed when the object is created (as QEMU builds them in
 * instance_init, before properties are set: `wheel-axis=off` changes the events, not the config).
 *
 * Host API (for the display to come): `virtioInputHidSend(dev, evt)` + `virtioInputHidSync(dev)`
 * target one device; inputSendEvents()/inputSendKey() in ui/input.ts route to the active
 * device like QEMU's input layer.
 */
import { typeRegister } from '../../qom/object.js';
import {
  definePropBool,
  definePropString,
  definePropUint32,
  deviceClassSetProps,
} from '../core/qdev-properties.js';
import { virtioReport } from './virtio.js';
import {
  BUS_VIRTUAL,
  EV_ABS,
  EV_KEY,
  EV_LED,
  EV_REL,
  EV_REP,
  EV_SYN,
  SYN_REPORT,
  TYPE_VIRTIO_INPUT,
  VIRTIO_INPUT_CFG_ABS_INFO,
  VIRTIO_INPUT_CFG_EV_BITS,
  VIRTIO_INPUT_CFG_ID_DEVIDS,
  VIRTIO_INPUT_CFG_ID_NAME,
  VirtIOInput,
  VirtioInputClass,
  inputBitmapConfig,
  inputConfig,
  type VirtioInputConfig,
  type VirtioInputEvent,
} from './virtio-input.js';
import {
  INPUT_EVENT_ABS_MAX,
  INPUT_EVENT_ABS_MIN,
  INPUT_EVENT_MASK,
  QEMU_CAPS_LOCK_LED,
  QEMU_NUM_LOCK_LED,
  QEMU_SCROLL_LOCK_LED,
  inputHandlerActivate,
  inputHandlerDeactivate,
  inputHandlerRegister,
  inputHandlerUnregister,
  inputPutLedState,
  keyNumberToQcode,
  qcodeToLinux,
  type InputButton,
  type InputEvent,
  type InputHandler,
  type InputHandlerState,
} from '../../ui/input.js';
import { keyboardLinuxCodes } from '../../ui/input-keymap.js';
import { InputButton_lookup, QKeyCode_lookup } from '../../qapi/generated/qapi-types.js';

export const TYPE_VIRTIO_INPUT_HID = 'virtio-input-hid-device';
export const TYPE_VIRTIO_KEYBOARD = 'virtio-keyboard-device';
export const TYPE_VIRTIO_MOUSE = 'virtio-mouse-device';
export const TYPE_VIRTIO_TABLET = 'virtio-tablet-device';

export const VIRTIO_ID_NAME_KEYBOARD = 'QEMU Virtio Keyboard';
export const VIRTIO_ID_NAME_MOUSE = 'QEMU Virtio Mouse';
export const VIRTIO_ID_NAME_TABLET = 'QEMU Virtio Tablet';

// Linux codes (input-event-codes.h)
export const BTN_LEFT = 0x110;
export const BTN_RIGHT = 0x111;
export const BTN_MIDDLE = 0x112;
export const BTN_SIDE = 0x113;
export const BTN_EXTRA = 0x114;
export const BTN_GEAR_DOWN = 0x150;
export const BTN_GEAR_UP = 0x151;
export const REL_X = 0;
export const REL_Y = 1;
export const REL_WHEEL = 8;
export const ABS_X = 0;
export const ABS_Y = 1;
export const LED_NUML = 0;
export const LED_CAPSL = 1;
export const LED_SCROLLL = 2;

/** QEMU 7.2's keymap_button (no BTN_TOUCH yet). */
const BUTTON_CODES: Readonly<Partial<Record<InputButton, number>>> = {
  left: BTN_LEFT,
  right: BTN_RIGHT,
  middle: BTN_MIDDLE,
  'wheel-up': BTN_GEAR_UP,
  'wheel-down': BTN_GEAR_DOWN,
  side: BTN_SIDE,
  extra: BTN_EXTRA,
};
const AXIS_CODES = { x: 0, y: 1 } as const; // REL_X/REL_Y and ABS_X/ABS_Y share the numbers

const le16 = (v: number) => [v & 0xff, v >> 8];
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** An ID_NAME entry: the string with its NUL (sizeof a C string literal). */
const nameConfig = (name: string) =>
  inputConfig(VIRTIO_INPUT_CFG_ID_NAME, 0, [...new TextEncoder().encode(name), 0]);
const devidsConfig = (product: number, version: number) =>
  inputConfig(VIRTIO_INPUT_CFG_ID_DEVIDS, 0, [
    ...le16(BUS_VIRTUAL),
    ...le16(0x0627),
    ...le16(product),
    ...le16(version),
  ]);
/** ABS_INFO: min, max, fuzz, flat, res (le32 each). */
const absConfig = (axis: number) =>
  inputConfig(VIRTIO_INPUT_CFG_ABS_INFO, axis, [
    ...le32(INPUT_EVENT_ABS_MIN),
    ...le32(INPUT_EVENT_ABS_MAX),
    ...le32(0),
    ...le32(0),
    ...le32(0),
  ]);
const buttonBits = () =>
  inputBitmapConfig(
    VIRTIO_INPUT_CFG_EV_BITS,
    EV_KEY,
    Object.values(BUTTON_CODES).filter((c) => c !== undefined),
  );

function keyboardConfig(): VirtioInputConfig[] {
  return [
    nameConfig(VIRTIO_ID_NAME_KEYBOARD),
    devidsConfig(0x0001, 0x0001),
    inputConfig(VIRTIO_INPUT_CFG_EV_BITS, EV_REP, [], 1),
    inputConfig(VIRTIO_INPUT_CFG_EV_BITS, EV_LED, [(1 << LED_NUML) | (1 << LED_CAPSL) | (1 << LED_SCROLLL)]),
    inputBitmapConfig(VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, keyboardLinuxCodes()),
  ];
}

function mouseConfig(wheel: boolean): VirtioInputConfig[] {
  return [
    nameConfig(VIRTIO_ID_NAME_MOUSE),
    devidsConfig(0x0002, wheel ? 0x0002 : 0x0001),
    wheel
      ? inputConfig(VIRTIO_INPUT_CFG_EV_BITS, EV_REL, [(1 << REL_X) | (1 << REL_Y), 1 << (REL_WHEEL - 8)])
      : inputConfig(VIRTIO_INPUT_CFG_EV_BITS, EV_REL, [(1 << REL_X) | (1 << REL_Y)]),
    buttonBits(),
  ];
}

function tabletConfig(wheel: boolean): VirtioInputConfig[] {
  return [
    nameConfig(VIRTIO_ID_NAME_TABLET),
    devidsConfig(0x0003, wheel ? 0x0002 : 0x0001),
    inputConfig(VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, [(1 << ABS_X) | (1 << ABS_Y)]),
    ...(wheel ? [inputConfig(VIRTIO_INPUT_CFG_EV_BITS, EV_REL, [0, 1 << (REL_WHEEL - 8)])] : []),
    absConfig(ABS_X),
    absConfig(ABS_Y),
    buttonBits(),
  ];
}

export class VirtIOInputHID extends VirtIOInput {
  display: string | null = null;
  head = 0;
  wheelAxis = true;
  /** QEMU_*_LOCK_LED bits the guest last set. */
  ledstate = 0;
  handlerName = '';
  handlerMask = 0;
  hs: InputHandlerState | null = null;

  /** virtio_input_handle_event(): one host event as Linux input events (no SYN_REPORT). */
  handleEvent(evt: InputEvent): void {
    const send = (type: number, code: number, value: number) => this.send({ type, code, value });
    switch (evt.type) {
      case 'key': {
        const k = evt.data.key;
        const qcode = k.type === 'qcode' ? k.data : keyNumberToQcode(k.data);
        const code = qcodeToLinux(qcode);
        if (code) send(EV_KEY, code, evt.data.down ? 1 : 0);
        else if (evt.data.down) {
          virtioReport(
            `virtio_input_handle_event: unmapped key: ${QKeyCode_lookup.indexOf(qcode)} [${qcode}]`,
          );
        }
        break;
      }
      case 'btn': {
        const { button, down } = evt.data;
        if (this.wheelAxis && (button === 'wheel-up' || button === 'wheel-down') && down) {
          send(EV_REL, REL_WHEEL, button === 'wheel-up' ? 1 : -1);
        } else if (BUTTON_CODES[button] !== undefined) {
          send(EV_KEY, BUTTON_CODES[button], down ? 1 : 0);
        } else if (down) {
          virtioReport(
            `virtio_input_handle_event: unmapped button: ${InputButton_lookup.indexOf(button)} [${button}]`,
          );
        }
        break;
      }
      case 'rel':
        send(EV_REL, AXIS_CODES[evt.data.axis], evt.data.value);
        break;
      case 'abs':
        send(EV_ABS, AXIS_CODES[evt.data.axis], evt.data.value);
        break;
    }
  }

  /** virtio_input_handle_sync(): end of a report. */
  handleSync(): void {
    this.send({ type: EV_SYN, code: SYN_REPORT, value: 0 });
  }

  /** virtio_input_hid_handle_status(): LED changes from the guest's keyboard driver. */
  handleStatus(event: VirtioInputEvent): void {
    if (event.type !== EV_LED) {
      virtioReport(`virtio_input_hid_handle_status: unknown type ${event.type}`);
      return;
    }
    const ledbit =
      event.code === LED_NUML
        ? QEMU_NUM_LOCK_LED
        : event.code === LED_CAPSL
          ? QEMU_CAPS_LOCK_LED
          : event.code === LED_SCROLLL
            ? QEMU_SCROLL_LOCK_LED
            : 0;
    if (event.value) this.ledstate |= ledbit;
    else this.ledstate &= ~ledbit;
    inputPutLedState(this.ledstate);
  }
}

/** Send one host event to this device (events go out at the next sync). */
export function virtioInputHidSend(dev: VirtIOInputHID, evt: InputEvent): void {
  dev.handleEvent(evt);
}

/** End the report: the events sent since the last sync reach the guest (or are dropped together). */
export function virtioInputHidSync(dev: VirtIOInputHID): void {
  dev.handleSync();
}

typeRegister<VirtIOInputHID, VirtioInputClass>({
  name: TYPE_VIRTIO_INPUT_HID,
  parent: TYPE_VIRTIO_INPUT,
  abstract: true,
  instance: VirtIOInputHID,
  classInit(vic) {
    deviceClassSetProps(vic, [definePropString('display', 'display'), definePropUint32('head', 'head', 0)]);
    vic.inputRealize = (vinput) => {
      const s = vinput as VirtIOInputHID;
      const handler: InputHandler = {
        name: s.handlerName,
        mask: s.handlerMask,
        event: (evt) => s.handleEvent(evt),
        sync: () => s.handleSync(),
      };
      s.hs = inputHandlerRegister(handler);
      // No consoles to bind `display`/`head` to yet (see ui/input.ts).
    };
    vic.inputUnrealize = (vinput) => {
      const s = vinput as VirtIOInputHID;
      if (s.hs) inputHandlerUnregister(s.hs);
      s.hs = null;
    };
    vic.changeActive = (vinput) => {
      const s = vinput as VirtIOInputHID;
      if (!s.hs) return;
      if (s.active) inputHandlerActivate(s.hs);
      else inputHandlerDeactivate(s.hs);
    };
    vic.handleStatus = (vinput, event) => (vinput as VirtIOInputHID).handleStatus(event);
  },
});

function initHid(s: VirtIOInputHID, name: string, mask: number, config: VirtioInputConfig[]): void {
  s.handlerName = name;
  s.handlerMask = mask;
  s.cfgList = [];
  for (const c of config) s.addConfig(c);
}

typeRegister<VirtIOInputHID, VirtioInputClass>({
  name: TYPE_VIRTIO_KEYBOARD,
  parent: TYPE_VIRTIO_INPUT_HID,
  instance: VirtIOInputHID,
  instanceInit(s) {
    initHid(s, VIRTIO_ID_NAME_KEYBOARD, INPUT_EVENT_MASK.key, keyboardConfig());
  },
});

typeRegister<VirtIOInputHID, VirtioInputClass>({
  name: TYPE_VIRTIO_MOUSE,
  parent: TYPE_VIRTIO_INPUT_HID,
  instance: VirtIOInputHID,
  classInit(vic) {
    deviceClassSetProps(vic, [definePropBool('wheel-axis', 'wheelAxis', true)]);
  },
  instanceInit(s) {
    initHid(s, VIRTIO_ID_NAME_MOUSE, INPUT_EVENT_MASK.btn | INPUT_EVENT_MASK.rel, mouseConfig(s.wheelAxis));
  },
});

typeRegister<VirtIOInputHID, VirtioInputClass>({
  name: TYPE_VIRTIO_TABLET,
  parent: TYPE_VIRTIO_INPUT_HID,
  instance: VirtIOInputHID,
  classInit(vic) {
    deviceClassSetProps(vic, [definePropBool('wheel-axis', 'wheelAxis', true)]);
  },
  instanceInit(s) {
    initHid(s, VIRTIO_ID_NAME_TABLET, INPUT_EVENT_MASK.btn | INPUT_EVENT_MASK.abs, tabletConfig(s.wheelAxis));
  },
});
