/**
 * One WebAssembly memory for guest RAM and the vCPUs' hot state (the "arena").
 *
 * Why: the WebAssembly translator (target/riscv/wasm-jit.ts) compiles guest code to wasm functions
 * that load and store guest memory, registers and TLB entries directly; wasm can only address its
 * own linear memory, so everything they touch lives here. JavaScript sees the same bytes through
 * typed-array views.
 *
 * The memory is *shared* (SharedArrayBuffer-backed) because growing a shared memory never detaches
 * the buffers of views created before: RAM blocks keep their views for life while the arena grows
 * for later blocks. Allocation is a bump pointer in 4 KiB pages (blocks live as long as the process,
 * like `ramBlocks`); when the 4 GiB wasm limit would be passed, `arenaAlloc` returns -1 and the caller
 * falls back to a private ArrayBuffer (the translator then takes its slow path for that block).
 */

const WASM_PAGE = 65536;
/** 4 GiB: the most a 32-bit wasm memory can address. */
const MAX_PAGES = 65536;

let memory: WebAssembly.Memory | null = null;
let top = 0;

/** The arena memory, created on first use (the wasm modules import it). */
export function arenaMemory(): WebAssembly.Memory {
  if (memory === null) {
    memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    top = 4096; // address 0 stays unused, so 0 never names an allocation
  }
  return memory;
}

/** The arena's current buffer (covers every allocation made so far). */
export function arenaBuffer(): ArrayBufferLike {
  return arenaMemory().buffer;
}

/**
 * Reserve `size` bytes aligned to `align` (a power of two up to 4096); returns the address, or -1 when
 * the arena cannot grow that far. The bytes are zero (fresh wasm memory is zero-filled).
 */
export function arenaAlloc(size: number, align = 4096): number {
  const mem = arenaMemory();
  const start = (top + align - 1) & -align;
  const end = start + size;
  if (!Number.isSafeInteger(end) || end > MAX_PAGES * WASM_PAGE) return -1;
  const have = mem.buffer.byteLength;
  if (end > have) {
    const pages = Math.ceil((end - have) / WASM_PAGE);
    try {
      mem.grow(pages);
    } catch {
      return -1; // the host refused the reservation: fall back
    }
  }
  top = end;
  return start;
}

/** Bytes of the arena in use (for `info` commands and tests). */
export function arenaUsed(): number {
  return top;
}
