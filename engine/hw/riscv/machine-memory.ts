/**
 * The machine's address spaces (QEMU's get_system_memory()/get_system_io(), address_space_memory):
 * the "system" container every board maps into, the "memory" address space over it, one
 * "cpu-memory-N" address space per hart, and the (empty on RISC-V) "io" space. Sysbus devices mapped
 * with sysbusMmioMap land in "system". `info mtree` prints these spaces.
 */
import { AddressSpace, MemoryRegion, formatMtree } from '../../system/memory.js';
import { setSysbusMmioMapper } from '../core/sysbus.js';
import { onQomRootReset } from '../../qom/object.js';

interface Spaces {
  system: MemoryRegion;
  io: MemoryRegion;
  memory: AddressSpace;
  ioSpace: AddressSpace;
  cpus: AddressSpace[];
}

let spaces: Spaces | null = null;

function ensure(): Spaces {
  if (!spaces) {
    const system = MemoryRegion.container('system', 2 ** 64);
    const io = MemoryRegion.container('io', 0x10000);
    spaces = {
      system,
      io,
      memory: new AddressSpace(system, 'memory'),
      ioSpace: new AddressSpace(io, 'I/O'),
      cpus: [],
    };
  }
  return spaces;
}

export function getSystemMemory(): MemoryRegion {
  return ensure().system;
}

/** address_space_memory: what loaders and DMA use. */
export function addressSpaceMemory(): AddressSpace {
  return ensure().memory;
}

/** A hart's view of memory ("cpu-memory-N"), over the same root as "memory". */
export function cpuAddressSpace(index: number): AddressSpace {
  const s = ensure();
  let as = s.cpus[index];
  if (!as) as = s.cpus[index] = new AddressSpace(s.system, `cpu-memory-${index}`);
  return as;
}

/** `info mtree` in QEMU's layout. */
export function formatInfoMtree(): string {
  const s = ensure();
  return formatMtree([s.ioSpace, ...s.cpus.filter(Boolean), s.memory]);
}

/** Drop every address space (a new machine, tests). */
export function resetSystemMemory(): void {
  if (!spaces) return;
  for (const as of [spaces.memory, spaces.ioSpace, ...spaces.cpus]) as?.destroy();
  spaces = null;
}

setSysbusMmioMapper((_dev, _n, addr, priority, mr) => {
  getSystemMemory().addSubregionOverlap(Number(addr), mr as MemoryRegion, priority);
});

onQomRootReset(resetSystemMemory);
