/**
 * I/O errors as the block layer reports them to devices: QEMU returns negative errno values from
 * every request; we throw a BlockIoError carrying the errno name so a device can map it to its own
 * status (virtio-blk: VIRTIO_BLK_S_IOERR / UNSUPP) and `werror`/`rerror` policies can tell ENOSPC apart.
 */
export type BlockErrno = 'EIO' | 'ENOSPC' | 'EPERM' | 'EACCES' | 'EINVAL' | 'ENOMEDIUM' | 'ENOTSUP' | 'EFBIG';

const STRERROR: Record<BlockErrno, string> = {
  EIO: 'Input/output error',
  ENOSPC: 'No space left on device',
  EPERM: 'Operation not permitted',
  EACCES: 'Permission denied',
  EINVAL: 'Invalid argument',
  ENOMEDIUM: 'No medium found',
  ENOTSUP: 'Operation not supported',
  EFBIG: 'File too large',
};

export class BlockIoError extends Error {
  constructor(
    readonly errno: BlockErrno,
    message?: string,
  ) {
    super(message ?? STRERROR[errno]);
    this.name = 'BlockIoError';
  }
}

/** strerror() text for an errno name (also for Node's system error codes we pass through). */
export function blockStrerror(code: string): string {
  return (STRERROR as Record<string, string>)[code] ?? SYS_STRERROR[code] ?? code;
}

const SYS_STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  EEXIST: 'File exists',
  EBUSY: 'Device or resource busy',
  EAGAIN: 'Resource temporarily unavailable',
};

/** Turn a Node system error (ENOSPC while writing, ...) into a BlockIoError. */
export function toBlockIoError(e: unknown): BlockIoError {
  if (e instanceof BlockIoError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EPERM' || code === 'EACCES' || code === 'EFBIG' || code === 'EINVAL') {
    return new BlockIoError(code);
  }
  return new BlockIoError('EIO', (e as Error | null)?.message);
}
