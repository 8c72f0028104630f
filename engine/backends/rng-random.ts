/**
 * "rng-random" (backends/rng-random.c): entropy read from a host file, /dev/urandom by default. The
 * file is opened when the backend completes; the name cannot change afterwards.
 */
import { closeSync, openSync, readSync, constants } from 'node:fs';
import { errorSetg } from '../qapi/error.js';
import { strerror } from '../chardev/strerror.js';
import { typeRegister } from '../qom/object.js';
import { objectClassPropertyAddStr } from '../qom/object-props.js';
import {
  RngBackend,
  RngBackendClass,
  TYPE_RNG_BACKEND,
  permissionDenied,
  rngBackendFinalizeRequest,
} from './rng.js';

export const TYPE_RNG_RANDOM = 'rng-random';

export class RngRandom extends RngBackend {
  filename: string | null = '/dev/urandom';
  fd = -1;
  scheduled = false;
}

function entropyAvailable(s: RngRandom): void {
  s.scheduled = false;
  while (s.requests.length && s.fd !== -1) {
    const req = s.requests[0]!;
    const buf = new Uint8Array(req.size);
    let len: number;
    try {
      len = readSync(s.fd, buf, 0, req.size, null);
    } catch (e) {
      if ((e as { code?: string }).code === 'EAGAIN') break;
      throw e;
    }
    if (len <= 0) break; // QEMU: g_assert(len != -1) / EOF; nothing to deliver
    rngBackendFinalizeRequest(s, req);
    req.receiveEntropy(buf.subarray(0, len));
  }
  if (s.requests.length && s.fd !== -1) schedule(s);
}

function schedule(s: RngRandom): void {
  if (s.scheduled) return;
  s.scheduled = true;
  setImmediate(() => entropyAvailable(s));
}

typeRegister<RngRandom, RngBackendClass>({
  name: TYPE_RNG_RANDOM,
  parent: TYPE_RNG_BACKEND,
  instance: RngRandom,
  classInit(k) {
    k.requestEntropy = (s) => schedule(s as RngRandom);
    k.opened = (b) => {
      const s = b as RngRandom;
      if (s.filename === null) throw errorSetg("Parameter 'filename' expects a valid filename");
      try {
        s.fd = openSync(s.filename, constants.O_RDONLY | constants.O_NONBLOCK);
      } catch (e) {
        throw errorSetg(`Could not open '${s.filename}': ${strerror(e)}`);
      }
    };
    objectClassPropertyAddStr<RngRandom>(
      k,
      'filename',
      (s) => s.filename ?? '',
      (s, v) => {
        if (s.opened) throw permissionDenied();
        s.filename = v;
      },
    );
  },
  instanceFinalize(s) {
    if (s.fd !== -1) closeSync(s.fd);
    s.fd = -1;
  },
});
