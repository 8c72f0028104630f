/**
 * Host memory backends (backends/hostmem.c): the abstract "memory-backend" user-creatable object that
 * provides guest RAM. Properties follow QEMU's (size, merge, dump, prealloc, prealloc-threads,
 * prealloc-context, share, reserve, policy, host-nodes, x-use-canonical-path-for-ramblock-id); the
 * memory is allocated by the concrete type's `alloc` at complete() and frozen from then on.
 */
import { errorSetg } from '../qapi/error.js';
import type { QomObject } from '../qom/object.js';
import {
  QomObject as QomObjectCtor,
  ObjectClass,
  typeRegister,
  objectCheck,
  objectClassDynamicCast,
  objectClassPropertyAdd,
  objectClassPropertyAddLink,
  objectClassPropertySetDescription,
  objectPropertyAllowSetLink,
  objectGetTypename,
  objectGetCanonicalPath,
  objectGetCanonicalPathComponent,
  OBJ_PROP_LINK_STRONG,
  TYPE_OBJECT,
} from '../qom/object.js';
import { objectClassPropertyAddBool, objectClassPropertyAddEnum } from '../qom/object-props.js';
import { TYPE_USER_CREATABLE, UserCreatableClass } from '../qom/object-interfaces.js';
import { HostMemPolicy_lookup, type HostMemPolicy } from '../qapi/generated/qapi-types.js';

export const TYPE_MEMORY_BACKEND = 'memory-backend';
const MAX_NODES = 128;

/** The RAM a backend provides (the memory layer wraps it in a MemoryRegion). */
export interface HostMemoryRegion {
  name: string;
  size: bigint;
  data: Uint8Array;
  shared: boolean;
}

export class HostMemoryBackend extends QomObjectCtor {
  size = 0n;
  merge = true;
  dump = true;
  prealloc = false;
  preallocThreads = 1;
  preallocContext: QomObject | null = null;
  share = false;
  reserve = true;
  useCanonicalPathForRamblockId = false;
  policy: HostMemPolicy = 'default';
  hostNodes: number[] = [];
  isMapped = false;
  mr: HostMemoryRegion | null = null;
}

export class HostMemoryBackendClass extends ObjectClass {
  /** Allocate the memory; throw on failure. */
  alloc?: (backend: HostMemoryBackend) => void;
}

export const MEMORY_BACKEND = (o: QomObject) => objectCheck<HostMemoryBackend>(o, TYPE_MEMORY_BACKEND);

export function hostMemoryBackendMrInited(b: HostMemoryBackend): boolean {
  return b.mr !== null;
}

/** host_memory_backend_get_name(): the RAM block id. */
export function hostMemoryBackendGetName(b: HostMemoryBackend): string {
  if (!b.useCanonicalPathForRamblockId) return objectGetCanonicalPathComponent(b) ?? '';
  return objectGetCanonicalPath(b) ?? '';
}

export function hostMemoryBackendGetMemory(b: HostMemoryBackend): HostMemoryRegion | null {
  return b.mr;
}

/** Mark the backend as in use (as guest RAM or by a device): object-del then refuses. */
export function hostMemoryBackendSetMapped(b: HostMemoryBackend, mapped: boolean): void {
  b.isMapped = mapped;
}

export function hostMemoryBackendIsMapped(b: HostMemoryBackend): boolean {
  return b.isMapped;
}

const cannotChangeValue = () => errorSetg('cannot change property value');

function boolProp(
  k: ObjectClass,
  name: string,
  field: 'merge' | 'dump' | 'prealloc' | 'share' | 'reserve' | 'useCanonicalPathForRamblockId',
  desc: string | undefined,
  frozen: boolean,
): void {
  objectClassPropertyAddBool<HostMemoryBackend>(
    k,
    name,
    (b) => b[field],
    (b, v) => {
      if (frozen && hostMemoryBackendMrInited(b)) throw cannotChangeValue();
      b[field] = v;
    },
  );
  if (desc !== undefined) objectClassPropertySetDescription(k, name, desc);
}

function complete(obj: QomObject): void {
  const b = obj as HostMemoryBackend;
  const bc = b.class as HostMemoryBackendClass;
  if (!bc.alloc) return;
  if (b.hostNodes.length && b.policy === 'default') {
    throw errorSetg(
      'host-nodes must be empty for policy default, or you should explicitly specify a policy other than default',
    );
  }
  if (!b.hostNodes.length && b.policy !== 'default')
    throw errorSetg(`host-nodes must be set for policy ${b.policy}`);
  bc.alloc(b);
}

typeRegister<HostMemoryBackend, HostMemoryBackendClass>({
  name: TYPE_MEMORY_BACKEND,
  parent: TYPE_OBJECT,
  abstract: true,
  instance: HostMemoryBackend,
  class: HostMemoryBackendClass,
  interfaces: [TYPE_USER_CREATABLE],
  classInit(k) {
    const ucc = objectClassDynamicCast<UserCreatableClass>(k, TYPE_USER_CREATABLE)!;
    ucc.complete = complete;
    ucc.canBeDeleted = (uc) => !hostMemoryBackendIsMapped(uc as HostMemoryBackend);

    boolProp(k, 'merge', 'merge', 'Mark memory as mergeable', false);
    boolProp(k, 'dump', 'dump', "Set to 'off' to exclude from core dump", false);
    boolProp(k, 'prealloc', 'prealloc', 'Preallocate memory', false);
    objectClassPropertyAdd(
      k,
      'prealloc-threads',
      'int',
      (o, v, n) => void v.typeUint32(n, (o as HostMemoryBackend).preallocThreads),
      (o, v, n) => {
        const b = o as HostMemoryBackend;
        const value = v.typeUint32(n);
        if (value <= 0)
          throw errorSetg(`property '${n}' of ${objectGetTypename(o)} doesn't take value '${value}'`);
        b.preallocThreads = value;
      },
    ).description = 'Number of CPU threads to use for prealloc';
    objectClassPropertyAddLink(
      k,
      'prealloc-context',
      'thread-context',
      'preallocContext',
      objectPropertyAllowSetLink,
      OBJ_PROP_LINK_STRONG,
    ).description = 'Context to use for creating CPU threads for preallocation';
    objectClassPropertyAdd(
      k,
      'size',
      'int',
      (o, v, n) => void v.typeSize(n, (o as HostMemoryBackend).size),
      (o, v, n) => {
        const b = o as HostMemoryBackend;
        if (hostMemoryBackendMrInited(b))
          throw errorSetg(`cannot change property ${n} of ${objectGetTypename(o)} `);
        const value = BigInt(v.typeSize(n));
        if (!value)
          throw errorSetg(`property '${n}' of ${objectGetTypename(o)} doesn't take value '${value}'`);
        b.size = value;
      },
    ).description = 'Size of the memory region (ex: 500M)';
    objectClassPropertyAdd(
      k,
      'host-nodes',
      'int',
      (o, v, n) => {
        const nodes = (o as HostMemoryBackend).hostNodes;
        v.startList(n, nodes.length);
        for (const node of nodes) v.typeUint16(null, node);
        v.endList();
      },
      (o, v, n) => {
        const nodes = new Set<number>();
        const len = v.startList(n);
        try {
          for (let i = 0; i < len; i++) {
            const node = v.typeUint16(null);
            if (node >= MAX_NODES) throw errorSetg(`Invalid host-nodes value: ${node}`);
            nodes.add(node);
          }
          v.checkList();
        } finally {
          v.endList();
        }
        (o as HostMemoryBackend).hostNodes = [...nodes].sort((a, b) => a - b);
      },
    ).description = 'Binds memory to the list of NUMA host nodes';
    objectClassPropertyAddEnum<HostMemoryBackend>(
      k,
      'policy',
      'HostMemPolicy',
      HostMemPolicy_lookup,
      (b) => b.policy,
      (b, v) => {
        b.policy = v as HostMemPolicy;
      },
    ).description = 'Set the NUMA policy';
    boolProp(k, 'share', 'share', 'Mark the memory as private to QEMU or shared', true);
    boolProp(k, 'reserve', 'reserve', 'Reserve swap space (or huge pages) if applicable', true);
    boolProp(k, 'x-use-canonical-path-for-ramblock-id', 'useCanonicalPathForRamblockId', undefined, false);
  },
});
