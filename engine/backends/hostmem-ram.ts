/**
 * "memory-backend-ram" (backends/hostmem-ram.c): anonymous RAM, here a zero-filled Uint8Array
 * (a SharedArrayBuffer view when share=on, so other threads can map it).
 */
import { errorSetg } from '../qapi/error.js';
import { typeRegister } from '../qom/object.js';
import {
  HostMemoryBackend,
  HostMemoryBackendClass,
  TYPE_MEMORY_BACKEND,
  hostMemoryBackendGetName,
} from './hostmem.js';

export const TYPE_MEMORY_BACKEND_RAM = 'memory-backend-ram';

typeRegister<HostMemoryBackend, HostMemoryBackendClass>({
  name: TYPE_MEMORY_BACKEND_RAM,
  parent: TYPE_MEMORY_BACKEND,
  instance: HostMemoryBackend,
  classInit(k) {
    k.alloc = (b) => {
      if (!b.size) throw errorSetg("can't create backend with size 0");
      const name = hostMemoryBackendGetName(b);
      let data: Uint8Array;
      try {
        const len = Number(b.size);
        if (!Number.isSafeInteger(len)) throw new RangeError('size');
        data = new Uint8Array(b.share ? new SharedArrayBuffer(len) : new ArrayBuffer(len));
      } catch {
        throw errorSetg(`cannot set up guest memory '${name}': Cannot allocate memory`);
      }
      b.mr = { name, size: b.size, data, shared: b.share };
    };
  },
});
