/**
 * The ring-buffer chardev (QEMU's chardev/char-ringbuf.c): keeps the last `size` bytes the frontend
 * wrote (oldest bytes are overwritten), readable with ringbuf-read; ringbuf-write feeds bytes in the
 * same way a frontend write does. "memory" is its legacy alias.
 */
import { QapiError } from '../qapi/error.js';
import { Chardev, type ChardevRingbuf } from './char.js';

const DEFAULT_SIZE = 64 * 1024;

export class RingbufChardev extends Chardev {
  readonly typeName: string;
  readonly size: number;
  private buf: Buffer;
  /** Total bytes produced and consumed (QEMU's prod/cons; only their difference matters). */
  private prod = 0;
  private cons = 0;

  constructor(label: string, opts: ChardevRingbuf, typeName = 'chardev-ringbuf') {
    super(label);
    this.typeName = typeName;
    const size = opts.size ?? DEFAULT_SIZE;
    // QEMU checks the power of two only; 0 is caught by the chardev option parser or means default.
    if (!Number.isSafeInteger(size) || size <= 0 || (size & (size - 1)) !== 0) {
      throw new QapiError('size of ringbuf chardev must be power of two');
    }
    this.size = size;
    this.buf = Buffer.alloc(size);
  }

  protected async openBackend(): Promise<void> {
    this.beEvent('opened');
  }

  /** Bytes currently stored. */
  get count(): number {
    return this.prod - this.cons;
  }

  protected chrWrite(data: Buffer): number {
    for (let i = 0; i < data.length; i++) {
      this.buf[this.prod++ & (this.size - 1)] = data[i]!;
      if (this.prod - this.cons > this.size) this.cons = this.prod - this.size;
    }
    return data.length;
  }

  /** Take up to `len` of the oldest bytes (ringbuf_chr_read). */
  read(len: number): Buffer {
    const n = Math.min(len, this.count);
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.buf[this.cons++ & (this.size - 1)]!;
    return out;
  }
}
