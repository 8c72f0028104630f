/**
 * The `raw` format driver (QEMU's block/raw-format.c): a window [offset, offset + size) of its
 * file child, passed through. A raw image whose format was probed refuses writes that would
 * turn its first sector into another format's header (QEMU's "write operations on block 0 will
 * be restricted"), so a guest cannot make the host reopen it as qcow2 with a backing file of its
 * choosing.
 */
import { QapiError } from '../qapi/error.js';
import { BlockIoError } from './block-error.js';
import type { BlockStatus, NodeDriver } from './block-driver.js';
import { probeFormat } from './probe.js';

export interface RawOptions {
  offset?: number;
  size?: number;
  probed: boolean;
}

export class RawDriver implements NodeDriver {
  readonly format = 'raw';
  private readonly offset: number;
  private readonly size: number | null;

  constructor(
    private readonly file: NodeDriver,
    private readonly o: RawOptions,
  ) {
    this.offset = o.offset ?? 0;
    this.size = o.size ?? null;
    const len = file.getLength();
    if (this.offset > len || (this.size !== null && this.offset + this.size > len)) {
      throw new QapiError(
        `The sum of offset (${this.offset}) and size (${this.size ?? 0}) has to be smaller or equal to the  actual size of the containing file (${len})`,
      );
    }
  }

  getLength(): number {
    return this.size ?? this.file.getLength() - this.offset;
  }

  pread(offset: number, buf: Uint8Array): Promise<void> {
    return this.file.pread(this.offset + offset, buf);
  }

  async pwrite(offset: number, buf: Uint8Array): Promise<void> {
    if (this.o.probed && offset < 512 && buf.length > 0) {
      const head = new Uint8Array(512);
      await this.file.pread(this.offset, head);
      head.set(buf.subarray(0, 512 - offset), offset);
      if (probeFormat(head) !== 'raw') throw new BlockIoError('EPERM');
    }
    await this.file.pwrite(this.offset + offset, buf);
  }

  pwriteZeroes(offset: number, bytes: number, mayUnmap: boolean): Promise<void> {
    return this.file.pwriteZeroes(this.offset + offset, bytes, mayUnmap);
  }

  pdiscard(offset: number, bytes: number): Promise<void> {
    return this.file.pdiscard(this.offset + offset, bytes);
  }

  flush(): Promise<void> {
    return this.file.flush();
  }

  async truncate(size: number): Promise<void> {
    if (this.offset || this.size !== null)
      throw new QapiError('Cannot resize a raw node with offset or size');
    if (!this.file.truncate) throw new QapiError('Image format driver does not support resize');
    await this.file.truncate(size);
  }

  async blockStatus(offset: number, bytes: number): Promise<BlockStatus> {
    const s = this.file.blockStatus
      ? await this.file.blockStatus(this.offset + offset, bytes)
      : { bytes, allocated: true, zero: false };
    return { ...s, allocated: true };
  }

  allocatedFileSize(): Promise<number> {
    return this.file.allocatedFileSize
      ? this.file.allocatedFileSize()
      : Promise.resolve(this.file.getLength());
  }

  dirtyFlag(): boolean {
    return false;
  }

  async close(): Promise<void> {}
}
