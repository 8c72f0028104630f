/**
 * What a block driver implements for one node (QEMU's BlockDriver callbacks bound to a
 * BlockDriverState's opaque state). Offsets and lengths are byte counts; requests a node receives
 * are already checked against its length by the caller (BlockBackend or the parent driver).
 */
import type { QDict } from '../qobject/qobject.js';

export interface BlockStatus {
  /** The range [offset, offset + bytes) has this status (bytes > 0). */
  bytes: number;
  /** Data lives in this node (not passed through to backing). */
  allocated: boolean;
  /** Reads as zeroes. */
  zero: boolean;
}

export interface NodeDriver {
  /** Driver name as QMP shows it ("file", "raw", "qcow2"). */
  readonly format: string;
  getLength(): number;
  pread(offset: number, buf: Uint8Array): Promise<void>;
  pwrite(offset: number, buf: Uint8Array): Promise<void>;
  pwriteZeroes(offset: number, bytes: number, mayUnmap: boolean): Promise<void>;
  pdiscard(offset: number, bytes: number): Promise<void>;
  flush(): Promise<void>;
  truncate?(size: number): Promise<void>;
  close(): Promise<void>;
  /** bdrv_co_block_status() for one extent starting at offset. */
  blockStatus?(offset: number, bytes: number): Promise<BlockStatus>;
  /** On-disk size in bytes (stat's blocks), for "actual-size"/"disk size". */
  allocatedFileSize?(): Promise<number>;
  /** ImageInfo fields the format contributes. */
  clusterSizeInfo?(): number | undefined;
  /** ImageInfoSpecific ({"type": ..., "data": ...}) or null. */
  formatSpecific?(): QDict | null;
  dirtyFlag?(): boolean;
}
