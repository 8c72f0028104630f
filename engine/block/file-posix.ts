/**
 * The `file` protocol driver (QEMU's block/file-posix.c for regular files): positional reads and
 * writes on one file handle, reads past EOF return zeroes (as QEMU pads them), flush is
 * fdatasync, discard/write-zeroes write zeroes (no hole punching API in Node), and the image
 * lock of image-lock.ts.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { QapiError } from '../qapi/error.js';
import { blockStrerror, toBlockIoError } from './block-error.js';
import type { BlockStatus, NodeDriver } from './block-driver.js';
import { imageLockAcquire, type ImageLock } from './image-lock.js';

export interface FileOpenOptions {
  filename: string;
  readOnly: boolean;
  locking: 'auto' | 'on' | 'off';
}

const ZERO_CHUNK = new Uint8Array(1 << 20);

export class FileDriver implements NodeDriver {
  readonly format = 'file';
  private length = 0;

  private constructor(
    private readonly fh: FileHandle,
    readonly filename: string,
    private readonly lock: ImageLock,
  ) {}

  static async open(o: FileOpenOptions): Promise<FileDriver> {
    let fh: FileHandle;
    try {
      fh = await open(o.filename, o.readOnly ? 'r' : 'r+');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      throw new QapiError(`Could not open '${o.filename}': ${blockStrerror(code)}`);
    }
    let lock: ImageLock = { release() {} };
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw new QapiError(`'${o.filename}' is not a regular file`);
      if (o.locking !== 'off') lock = imageLockAcquire(o.filename, !o.readOnly);
      const d = new FileDriver(fh, o.filename, lock);
      d.length = st.size;
      return d;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  getLength(): number {
    return this.length;
  }

  async pread(offset: number, buf: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < buf.length) {
        const { bytesRead } = await this.fh.read(buf, done, buf.length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (e) {
      throw toBlockIoError(e);
    }
    if (done < buf.length) buf.fill(0, done);
  }

  async pwrite(offset: number, buf: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < buf.length) {
        const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, offset + done);
        done += bytesWritten;
      }
    } catch (e) {
      throw toBlockIoError(e);
    }
    if (offset + buf.length > this.length) this.length = offset + buf.length;
  }

  async pwriteZeroes(offset: number, bytes: number): Promise<void> {
    // Past EOF a file reads as zeroes already; only extend the length there.
    const end = offset + bytes;
    const inFile = Math.max(0, Math.min(end, this.length) - offset);
    for (let done = 0; done < inFile;) {
      const n = Math.min(inFile - done, ZERO_CHUNK.length);
      await this.pwrite(offset + done, ZERO_CHUNK.subarray(0, n));
      done += n;
    }
    if (end > this.length) await this.truncate(end);
  }

  async pdiscard(): Promise<void> {
    // Discard is advisory; without hole punching there is nothing cheap to do.
  }

  async flush(): Promise<void> {
    try {
      await this.fh.datasync();
    } catch (e) {
      throw toBlockIoError(e);
    }
  }

  async truncate(size: number): Promise<void> {
    try {
      await this.fh.truncate(size);
    } catch (e) {
      throw toBlockIoError(e);
    }
    this.length = size;
  }

  async blockStatus(offset: number, bytes: number): Promise<BlockStatus> {
    return { bytes, allocated: true, zero: offset >= this.length };
  }

  async allocatedFileSize(): Promise<number> {
    const st = await this.fh.stat();
    return st.blocks * 512;
  }

  async close(): Promise<void> {
    this.lock.release();
    await this.fh.close();
  }
}
