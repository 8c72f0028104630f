/**
 * QEMU's Error, as QMP clients see it: an ErrorClass plus a human-readable description.
 * Code throws `QapiError`; the QMP dispatcher turns it into {"error": {"class", "desc"}}.
 * Any other exception escaping a command is an engine bug and is reported as GenericError.
 */
export type ErrorClass =
  'GenericError' | 'CommandNotFound' | 'DeviceNotActive' | 'DeviceNotFound' | 'KVMMissingCap';

export class QapiError extends Error {
  readonly errorClass: ErrorClass;
  /** Extra lines QEMU prints after the message on the command line (error_append_hint). */
  hint?: string;

  constructor(message: string, errorClass: ErrorClass = 'GenericError') {
    super(message);
    this.name = 'QapiError';
    this.errorClass = errorClass;
  }

  /** error_prepend(): prefix context to the message, keeping the class. */
  prepend(prefix: string): this {
    this.message = prefix + this.message;
    return this;
  }
}

/** error_setg(): the common case. */
export function errorSetg(message: string): QapiError {
  return new QapiError(message, 'GenericError');
}

export function isQapiError(e: unknown): e is QapiError {
  return e instanceof QapiError;
}
