/**
 * Host memory backing guest RAM/ROM (QEMU's RAMBlock, softmmu/physmem.c).
 *
 * Each block owns one ArrayBuffer with several typed views over it, so the CPU can read and write
 * guest memory with a single indexed typed-array access (no DataView, no allocation). The host is
 * little-endian like RISC-V (checked at load time), so multi-byte views read guest values directly.
 *
 * Code tracking: a CPU that caches decoded instructions for a guest page marks the page in
 * `codePages`; every write path into the block (CPU stores, DMA, loaders) checks that map and calls
 * `onCodeWrite(page)` so the cache is dropped (QEMU does the same with its DIRTY_MEMORY_CODE bitmap).
 */

import { arenaAlloc, arenaBuffer } from './guest-arena.js';

export const TARGET_PAGE_BITS = 12;
export const TARGET_PAGE_SIZE = 1 << TARGET_PAGE_BITS;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('VM Studio needs a little-endian host');
}

export class RamBlock {
  /** Index in `ramBlocks`; stable for the life of the block (the CPU TLB stores it). */
  readonly id: number;
  readonly buf: ArrayBufferLike;
  /** Address of the block in the wasm arena (guest-arena.ts), or -1 when it has its own buffer. */
  readonly arenaAddr: number;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  /** 1 for every page that has decoded instructions cached somewhere. */
  readonly codePages: Uint8Array;
  /** Called when a page in `codePages` is written; the owner of the cache clears the mark. */
  onCodeWrite: ((page: number) => void) | null = null;

  constructor(
    readonly name: string,
    readonly size: number,
  ) {
    // Round the buffer up to whole pages and 8 bytes so every view covers the block.
    const alloc = Math.max(TARGET_PAGE_SIZE, Math.ceil(size / TARGET_PAGE_SIZE) * TARGET_PAGE_SIZE);
    // In the arena where it fits, so translated code reaches it directly; else a private buffer.
    this.arenaAddr = arenaAlloc(alloc);
    if (this.arenaAddr >= 0) {
      this.buf = arenaBuffer();
      this.u8 = new Uint8Array(this.buf, this.arenaAddr, alloc);
      this.u16 = new Uint16Array(this.buf, this.arenaAddr, alloc >>> 1);
      this.i16 = new Int16Array(this.buf, this.arenaAddr, alloc >>> 1);
      this.i32 = new Int32Array(this.buf, this.arenaAddr, alloc >>> 2);
    } else {
      this.buf = new ArrayBuffer(alloc);
      this.u8 = new Uint8Array(this.buf);
      this.u16 = new Uint16Array(this.buf);
      this.i16 = new Int16Array(this.buf);
      this.i32 = new Int32Array(this.buf);
    }
    this.codePages = new Uint8Array(alloc >>> TARGET_PAGE_BITS);
    this.id = ramBlocks.length;
    ramBlocks.push(this);
  }

  /** Notify code caches that bytes [offset, offset+len) were modified by something other than the CPU fast path. */
  notifyWrite(offset: number, len: number): void {
    if (!this.onCodeWrite) return;
    const first = offset >>> TARGET_PAGE_BITS;
    const last = (offset + Math.max(len, 1) - 1) >>> TARGET_PAGE_BITS;
    for (let p = first; p <= last; p++) if (this.codePages[p]) this.onCodeWrite(p);
  }

  /** Copy host bytes into the block (loaders, DMA) with code invalidation. */
  write(offset: number, data: Uint8Array): void {
    this.u8.set(data, offset);
    this.notifyWrite(offset, data.length);
  }
}

/** Every RAM block ever allocated, by id. */
export const ramBlocks: RamBlock[] = [];
