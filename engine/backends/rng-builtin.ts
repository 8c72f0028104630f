/**
 * "rng-builtin" (backends/rng-builtin.c): entropy from the host CSPRNG, delivered from a bottom half
 * (here: setImmediate) like QEMU's.
 */
import { randomFillSync } from 'node:crypto';
import { typeRegister } from '../qom/object.js';
import { RngBackend, RngBackendClass, TYPE_RNG_BACKEND, rngBackendFinalizeRequest } from './rng.js';

export const TYPE_RNG_BUILTIN = 'rng-builtin';

export class RngBuiltin extends RngBackend {
  scheduled = false;
}

function bh(s: RngBuiltin): void {
  s.scheduled = false;
  while (s.requests.length && !s.finalized) {
    const req = s.requests[0]!;
    const data = new Uint8Array(req.size);
    randomFillSync(data);
    rngBackendFinalizeRequest(s, req);
    req.receiveEntropy(data);
  }
}

typeRegister<RngBuiltin, RngBackendClass>({
  name: TYPE_RNG_BUILTIN,
  parent: TYPE_RNG_BACKEND,
  instance: RngBuiltin,
  classInit(k) {
    k.requestEntropy = (s) => {
      const b = s as RngBuiltin;
      if (b.scheduled) return;
      b.scheduled = true;
      setImmediate(() => bh(b));
    };
  },
});
