/**
 * strerror() texts for the errno codes Node reports, so socket and file errors read like QEMU's
 * (error_setg_errno appends ": <strerror>").
 */
const TEXTS: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  EMFILE: 'Too many open files',
  ENAMETOOLONG: 'File name too long',
  EINVAL: 'Invalid argument',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EPIPE: 'Broken pipe',
  ENOTSOCK: 'Socket operation on non-socket',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
};

/** The C library's message for a Node error (falls back to the error's own message). */
export function strerror(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TEXTS[code]) return TEXTS[code];
  return e instanceof Error ? e.message : String(e);
}
