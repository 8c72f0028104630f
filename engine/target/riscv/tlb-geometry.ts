/**
 * Size of the software TLBs (direct-mapped, one per privilege and access kind), shared by the
 * interpreter (cpu.ts) and both translators, which index the same tag arrays inline.
 *
 * 1024 entries. Measured on the default guest's boot: 4.0M page walks with 1024 entries, 3.7M with
 * 4096. Nearly all misses follow the ~1900 full `sfence.vma`s Linux issues while booting (each
 * refills ~1700 entries), so more entries would mostly make each flush dearer.
 */
export const TLB_BITS = 10;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
/** Byte offset of the host-address array in a wasm TLB, after TLB_SIZE i64 tags. */
export const TLB_HOST = TLB_SIZE * 8;
/** Bytes of one wasm TLB: the tags, then one i32 host address per entry. */
export const WTLB_BYTES = TLB_HOST + TLB_SIZE * 4;
