/**
 * VMState descriptions: the table each device keeps next to its registers and properties, telling the
 * migration code how to save and load its state (QEMU's include/migration/vmstate.h, in TS terms).
 *
 * A field names a property of the device object (`obj[field]`). Its kind says how the value is put
 * on the wire (big-endian, as QEMU's QEMUFile does). Typed-array fields are saved element by element
 * and loaded in place, so devices and the CPU can keep their state in typed arrays and the hot
 * paths never look up anything by name.
 *
 * Versioning follows QEMU: a stream section carries the description's version; loading accepts
 * versions in [minimumVersionId, versionId]; a field with `versionId` is present only from that version
 * on. Subsections are optional trailing parts sent only when `needed(obj)` is true, and a loader that
 * does not know a subsection refuses the stream.
 */

/** Scalar wire kinds. 64-bit kinds accept and produce number | bigint (bigint when beyond 2^53). */
export type VMStateScalarKind =
  'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64' | 'float64';

export type VMStateFieldKind =
  /** One scalar in `obj[name]`. */
  | VMStateScalarKind
  /**
   * A fixed-length typed array or plain array in `obj[name]`, `length` elements of `elem` kind
   * (e.g. Uint32Array with elem 'uint32'; an Int32Array holding 64-bit register halves is saved as
   * 'int32' elements). Loaded in place.
   */
  | 'array'
  /** Like 'array', but the length is read from another field, `lengthField`, saved earlier. */
  | 'varray'
  /** A Uint8Array of `length` bytes (or `lengthField`), written raw (QEMU's VMSTATE_BUFFER). */
  | 'buffer'
  /** A nested object `obj[name]` described by `vmsd` (QEMU's VMSTATE_STRUCT). */
  | 'struct'
  /** An array of nested objects, each described by `vmsd` (VMSTATE_STRUCT_ARRAY). */
  | 'struct-array'
  /** Custom encoding through `info` (QEMU's VMStateInfo get/put), e.g. timers. */
  | 'custom';

/** QEMU's VMStateInfo: a named custom encoding. */
export interface VMStateInfo {
  /** Name used in the JSON description of the stream (e.g. "timer", "uint64"). */
  readonly name: string;
  /** Bytes it writes; used by the JSON description. */
  readonly size: number;
  put(out: VMStateWriter, obj: any, field: VMStateField): void;
  get(inp: VMStateReader, obj: any, field: VMStateField): void;
}

export interface VMStateField {
  readonly name: string;
  readonly kind: VMStateFieldKind;
  /** Element kind for 'array'/'varray'. */
  readonly elem?: VMStateScalarKind;
  readonly length?: number;
  readonly lengthField?: string;
  readonly vmsd?: VMStateDescription;
  readonly info?: VMStateInfo;
  /** Present in streams of this description version and later (VMSTATE_*_V). */
  readonly versionId?: number;
  /** Extra condition (VMSTATE_*_TEST): the field is present only when this returns true. */
  readonly fieldExists?: (obj: any, versionId: number) => boolean;
}

export interface VMStateDescription {
  readonly name: string;
  readonly versionId: number;
  readonly minimumVersionId: number;
  readonly fields: readonly VMStateField[];
  readonly subsections?: readonly VMStateDescription[];
  /** For subsections: whether to send it. */
  readonly needed?: (obj: any) => boolean;
  /** The device cannot be migrated (migration is refused with this description's name). */
  readonly unmigratable?: boolean;
  readonly preSave?: (obj: any) => void;
  readonly preLoad?: (obj: any) => void;
  /** Throw a QapiError to refuse the loaded state (the load then fails and nothing is kept). */
  readonly postLoad?: (obj: any, versionId: number) => void;
}

/** Big-endian output stream (QEMUFile for writing). */
export interface VMStateWriter {
  u8(v: number): void;
  u16(v: number): void;
  u32(v: number): void;
  u64(v: number | bigint): void;
  bytes(b: Uint8Array): void;
}

/** Big-endian input stream; reading past the end throws a QapiError. */
export interface VMStateReader {
  u8(): number;
  u16(): number;
  u32(): number;
  u64(): bigint;
  bytes(n: number): Uint8Array;
}
