/**
 * Errors of the migration layer. QEMU's loader returns a negative errno and error_report()s lines as
 * it unwinds ("Failed to load timer:cpu_ticks_offset", "error while loading state for instance 0x0
 * of device 'timer'"); its callers then add their own summary ("Error -22 while loading VM state",
 * "load of migration failed: Invalid argument"). We keep both: `errno` and the `reports` in order,
 * so HMP, QMP and the command line can print exactly what QEMU prints.
 */
import { QapiError } from '../qapi/error.js';

export const ENOENT = 2;
export const EIO = 5;
export const EINVAL = 22;
export const ENOTSUP = 95;

const ERRNO_TEXT: Record<number, string> = {
  [ENOENT]: 'No such file or directory',
  [EIO]: 'Input/output error',
  [EINVAL]: 'Invalid argument',
  [ENOTSUP]: 'Operation not supported',
};

export function errnoText(errno: number): string {
  return ERRNO_TEXT[errno] ?? `Unknown error ${errno}`;
}

export class MigrationError extends QapiError {
  /** Positive errno (QEMU returns -errno). */
  readonly errno: number;
  /** error_report() lines, innermost first, as QEMU prints them while unwinding. */
  readonly reports: string[];

  /** `report` (if given) is both the first reported line and the message. */
  constructor(errno: number, message: string, report = true) {
    super(message);
    this.name = 'MigrationError';
    this.errno = errno;
    this.reports = report ? [message] : [];
  }

  /** Add an outer error_report() line while unwinding. */
  report(line: string): this {
    this.reports.push(line);
    return this;
  }
}

/** A truncated stream: QEMU reports nothing specific, the outer layers add context. */
export function truncated(): MigrationError {
  return new MigrationError(EIO, 'migration stream is truncated', false);
}

export function isMigrationError(e: unknown): e is MigrationError {
  return e instanceof MigrationError;
}
