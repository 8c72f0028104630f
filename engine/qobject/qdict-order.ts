/**
 * The order in which QEMU's QDict yields its keys: a 512-bucket hash table (tdb_hash), iterated
 * bucket by bucket, newest entry first within a bucket. QEMU prints every QMP reply, event and
 * introspection dictionary in this order, so emitting ours the same way makes our wire output
 * byte-comparable with QEMU's (e.g. `{"return": {}, "id": 1}` but `{"id": 1, "error": ...}`).
 */
const QDICT_BUCKET_MAX = 512;

/** QEMU's tdb_hash() (qobject/qdict.c), on 32-bit unsigned arithmetic. */
export function qdictHash(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  let value = Math.imul(0x238f13af, bytes.length) >>> 0;
  for (let i = 0; i < bytes.length; i++) value = (value + ((bytes[i]! << ((i * 5) % 24)) >>> 0)) >>> 0;
  return (Math.imul(1103515243, value) + 12345) >>> 0;
}

/** Keys in the order QEMU's QDict iterates them after inserting them in the given order. */
export function qdictKeyOrder(keys: readonly string[]): string[] {
  return keys
    .map((k, i) => ({ k, i, b: qdictHash(k) % QDICT_BUCKET_MAX }))
    .sort((x, y) => x.b - y.b || y.i - x.i)
    .map((e) => e.k);
}
