/**
 * HotplugHandler interface (hw/core/hotplug.c): implemented by buses' owners (bridges) and machines.
 * pre_plug/plug run around a device's realize; unplug_request starts a (possibly guest-cooperative)
 * removal, unplug finishes it. Handlers throw QapiError to refuse.
 */
import type { QomObject } from '../../qom/object.js';
import { InterfaceClass, typeRegister, objectGetClassAs, TYPE_INTERFACE } from '../../qom/object.js';

export const TYPE_HOTPLUG_HANDLER = 'hotplug-handler';

type Hook = (handler: QomObject, dev: QomObject) => void;

export class HotplugHandlerClass extends InterfaceClass {
  prePlug?: Hook;
  plug?: Hook;
  unplugRequest?: Hook;
  unplug?: Hook;
  /** Whether `bus` (managed by this handler) accepts hotplug at the moment. */
  isHotpluggableBus?: (handler: QomObject, bus: QomObject) => boolean;
}

typeRegister({ name: TYPE_HOTPLUG_HANDLER, parent: TYPE_INTERFACE, class: HotplugHandlerClass });

export function hotplugHandlerClass(handler: QomObject): HotplugHandlerClass {
  return objectGetClassAs<HotplugHandlerClass>(handler, TYPE_HOTPLUG_HANDLER);
}

export function hotplugHandlerPrePlug(handler: QomObject, dev: QomObject): void {
  hotplugHandlerClass(handler).prePlug?.(handler, dev);
}

export function hotplugHandlerPlug(handler: QomObject, dev: QomObject): void {
  hotplugHandlerClass(handler).plug?.(handler, dev);
}

export function hotplugHandlerUnplugRequest(handler: QomObject, dev: QomObject): void {
  hotplugHandlerClass(handler).unplugRequest?.(handler, dev);
}

export function hotplugHandlerUnplug(handler: QomObject, dev: QomObject): void {
  hotplugHandlerClass(handler).unplug?.(handler, dev);
}
