/**
 * Random number generator backends (backends/rng.c): the abstract "rng-backend" user-creatable object
 * that virtio-rng asks for entropy. Opening happens at complete() (the deprecated "opened" property).
 */
import { errorSetg } from '../qapi/error.js';
import type { QomObject } from '../qom/object.js';
import {
  QomObject as QomObjectCtor,
  ObjectClass,
  typeRegister,
  objectCheck,
  objectClassDynamicCast,
  objectPropertySetBool,
  TYPE_OBJECT,
} from '../qom/object.js';
import { objectClassPropertyAddBool } from '../qom/object-props.js';
import { TYPE_USER_CREATABLE, UserCreatableClass } from '../qom/object-interfaces.js';

export const TYPE_RNG_BACKEND = 'rng-backend';

/** QERR_PERMISSION_DENIED. */
export const permissionDenied = () => errorSetg('Insufficient permission to perform this operation');

export interface RngRequest {
  size: number;
  receiveEntropy: (data: Uint8Array) => void;
}

export class RngBackend extends QomObjectCtor {
  opened = false;
  requests: RngRequest[] = [];
}

export class RngBackendClass extends ObjectClass {
  /** Start satisfying `req`; call rngBackendFinalizeRequest when done. */
  requestEntropy?: (s: RngBackend, req: RngRequest) => void;
  /** Open the entropy source; throw on failure. */
  opened?: (s: RngBackend) => void;
}

export const RNG_BACKEND = (o: QomObject) => objectCheck<RngBackend>(o, TYPE_RNG_BACKEND);

/**
 * rng_backend_request_entropy(): ask for up to `size` bytes; `receive` gets them (possibly fewer)
 * asynchronously.
 */
export function rngBackendRequestEntropy(
  s: RngBackend,
  size: number,
  receive: (data: Uint8Array) => void,
): void {
  const k = s.class as RngBackendClass;
  if (!k.requestEntropy) return;
  const req: RngRequest = { size, receiveEntropy: receive };
  k.requestEntropy(s, req);
  s.requests.push(req);
}

export function rngBackendFinalizeRequest(s: RngBackend, req: RngRequest): void {
  const i = s.requests.indexOf(req);
  if (i >= 0) s.requests.splice(i, 1);
}

export function rngBackendFreeRequests(s: RngBackend): void {
  s.requests.length = 0;
}

function setOpened(s: RngBackend, value: boolean): void {
  if (value === s.opened) return;
  if (!value && s.opened) throw permissionDenied();
  (s.class as RngBackendClass).opened?.(s);
  s.opened = true;
}

typeRegister<RngBackend, RngBackendClass>({
  name: TYPE_RNG_BACKEND,
  parent: TYPE_OBJECT,
  abstract: true,
  instance: RngBackend,
  class: RngBackendClass,
  interfaces: [TYPE_USER_CREATABLE],
  classInit(k) {
    objectClassPropertyAddBool<RngBackend>(k, 'opened', (s) => s.opened, setOpened);
    const ucc = objectClassDynamicCast<UserCreatableClass>(k, TYPE_USER_CREATABLE)!;
    ucc.complete = (uc) => objectPropertySetBool(uc, 'opened', true);
  },
  instanceFinalize(s) {
    rngBackendFreeRequests(s);
  },
});
