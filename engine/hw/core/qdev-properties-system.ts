/**
 * Backend-reference properties (hw/core/qdev-properties-system.c): chardev, drive and netdev are
 * string-typed ids naming a backend. The owning subsystems register a lookup so a wrong id fails at
 * set time with QEMU's message; until then (or without one) the id is stored as given and the device
 * resolves it at realize.
 */
import { errorSetg } from '../../qapi/error.js';
import { objectGetTypename } from '../../qom/object.js';
import type { Property, PropertyInfo } from './qdev-properties.js';

export type BackendKind = 'chardev' | 'drive' | 'netdev';

/** Returns false when no backend `id` exists (or throws a more specific error, e.g. "in use"). */
export type BackendLookup = (id: string) => boolean;

const lookups = new Map<BackendKind, BackendLookup>();

export function registerBackendLookup(kind: BackendKind, fn: BackendLookup | null): void {
  if (fn) lookups.set(kind, fn);
  else lookups.delete(kind);
}

function backendInfo(kind: BackendKind, description: string): PropertyInfo {
  return {
    name: 'str',
    description,
    get(obj, v, n, prop) {
      v.typeStr(n, ((obj as unknown as Record<string, string | null>)[prop.field] ?? '') as string);
    },
    set(obj, v, n, prop) {
      const id = v.typeStr(n);
      const lookup = lookups.get(kind);
      if (id !== '' && lookup && !lookup(id)) {
        throw errorSetg(`Property '${objectGetTypename(obj)}.${n}' can't find value '${id}'`);
      }
      (obj as unknown as Record<string, string | null>)[prop.field] = id === '' ? null : id;
    },
  };
}

export const qdevPropChr = backendInfo('chardev', 'ID of a chardev to use as a backend');
export const qdevPropDrive = backendInfo('drive', 'Node name or ID of a block device to use as a backend');
export const qdevPropNetdev = backendInfo('netdev', 'ID of a netdev to use as a backend');

const ref = (name: string, info: PropertyInfo, field: string): Property => ({
  name,
  info,
  field,
  setDefault: false,
});
export const definePropChr = (name: string, field: string) => ref(name, qdevPropChr, field);
export const definePropDrive = (name: string, field: string) => ref(name, qdevPropDrive, field);
export const definePropNetdev = (name: string, field: string) => ref(name, qdevPropNetdev, field);
