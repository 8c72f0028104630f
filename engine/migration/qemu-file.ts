/**
 * The migration byte stream (QEMU's migration/qemu-file.c, in memory): a big-endian writer over a
 * growable buffer and a bounds-checked reader over a complete stream.
 *
 * Streams are built whole in memory and handed to a transport (file, socket, command) afterwards, so
 * the VM is never left half-saved by a slow peer and the loader can look at everything before it
 * changes anything. Reading past the end throws a MigrationError (-EIO), which is what QEMU's
 * qemu_get_* report when the stream is truncated.
 */
import type { VMStateReader, VMStateWriter } from './vmstate-types.js';
import { truncated } from './migration-error.js';

const U32 = 4294967296;

/** QEMUFile for writing: big-endian scalars into a growable buffer. */
export class QemuFileWriter implements VMStateWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far (qemu_file_transferred). */
  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v & 0xff;
  }

  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.len, v & 0xffff);
    this.len += 2;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.len, v >>> 0);
    this.len += 4;
  }

  /** 64-bit value; negative numbers/bigints are written as their two's complement. */
  u64(v: number | bigint): void {
    this.reserve(8);
    if (typeof v === 'bigint') {
      this.view.setBigUint64(this.len, BigInt.asUintN(64, v));
    } else if (Number.isSafeInteger(v) && v >= 0) {
      this.view.setUint32(this.len, Math.floor(v / U32));
      this.view.setUint32(this.len + 4, v >>> 0);
    } else {
      this.view.setBigUint64(this.len, BigInt.asUintN(64, BigInt(Math.trunc(v))));
    }
    this.len += 8;
  }

  /** Two 32-bit halves of a 64-bit value (the CPU keeps registers as (lo, hi) int32 pairs). */
  u64Pair(lo: number, hi: number): void {
    this.reserve(8);
    this.view.setUint32(this.len, hi >>> 0);
    this.view.setUint32(this.len + 4, lo >>> 0);
    this.len += 8;
  }

  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.len, v);
    this.len += 8;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** A byte-length-prefixed string (section names, RAM block ids). */
  str8(s: string): void {
    const b = Buffer.from(s, 'latin1');
    this.u8(b.length);
    this.bytes(b);
  }

  /** The stream so far (a view; copy it before writing more if it must stay stable). */
  data(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** QEMUFile for reading a complete stream; every read is bounds-checked. */
export class QemuFileReader implements VMStateReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.pos = this.buf.length;
      throw truncated();
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** Look at the next byte without consuming it (QEMU's qemu_peek_byte); -1 at the end. */
  peek8(offset = 0): number {
    const p = this.pos + offset;
    return p < this.buf.length ? this.buf[p]! : -1;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  /** A 64-bit value as a number when it is below 2^53 (offsets, sizes); otherwise a bigint. */
  u64n(): number | bigint {
    this.need(8);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    return hi < 0x200000 ? hi * U32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Read a 64-bit value into (lo, hi) int32 halves. */
  u64Pair(out: Int32Array, index: number): void {
    this.need(8);
    out[index + 1] = this.view.getInt32(this.pos);
    out[index] = this.view.getInt32(this.pos + 4);
    this.pos += 8;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  str8(): string {
    const n = this.u8();
    return Buffer.from(this.bytes(n)).toString('latin1');
  }
}
