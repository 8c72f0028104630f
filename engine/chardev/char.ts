/**
 * Character devices (QEMU's chardev/char.c + char-fe.c): a Chardev is a byte-stream backend (socket,
 * stdio, file, ring buffer, null); one frontend (a monitor, a serial port) attaches to it.
 *
 * Flow control works as in QEMU: the backend only delivers as many bytes as the frontend's canRead()
 * allows. When the frontend cannot take more, the backend stops reading its source (pauses the socket
 * or stdin) until the frontend calls acceptInput() (qemu_chr_fe_accept_input). So a monitor whose
 * request queue is full never makes the process buffer unbounded input.
 */
import fs from 'node:fs';
import { QapiError } from '../qapi/error.js';
import { strerror } from './strerror.js';
import type { ChardevCommon } from '../qapi/generated/qapi-types.js';

/** QEMUChrEvent. */
export type ChrEvent = 'opened' | 'closed' | 'break' | 'mux-in' | 'mux-out';

/** The frontend side (QEMU's CharBackend handlers: fd_can_read, fd_read, fd_event). */
export interface CharFrontend {
  /** How many bytes may be delivered now; 0 suspends input. */
  canRead(): number;
  read(data: Buffer): void;
  event(ev: ChrEvent): void;
}

/** The QAPI types chardev-add takes (qapi/char.json); -chardev options are converted to them. */
export type {
  ChardevBackend,
  ChardevBackendKind,
  ChardevCommon,
  ChardevFile,
  ChardevRingbuf,
  ChardevSocket,
  ChardevStdio,
  InetSocketAddress,
  SocketAddressLegacy,
  UnixSocketAddress,
} from '../qapi/generated/qapi-types.js';

export abstract class Chardev {
  /** QOM type name, e.g. "chardev-socket". */
  abstract readonly typeName: string;
  readonly label: string;
  /** What query-chardev shows as "filename" (chr->filename). */
  filename = '';
  /** Backend open (connected): CHR_EVENT_OPENED seen and no CLOSED since. */
  beOpen = false;

  private frontend: CharFrontend | null = null;
  private feOpen = false;
  private readonly inQueue: Buffer[] = [];
  private pumping = false;
  private repump = false;
  private inputPaused = false;
  private logFd: number | null = null;

  constructor(label: string) {
    this.label = label;
  }

  /** Open the backend. Resolves once it is usable (for server wait=on: once a client connected). */
  async open(common: ChardevCommon): Promise<void> {
    if (common.logfile) {
      try {
        this.logFd = fs.openSync(common.logfile, common.logappend ? 'a' : 'w', 0o666);
      } catch (e) {
        throw new QapiError(`Could not open '${common.logfile}': ${strerror(e)}`);
      }
    }
    await this.openBackend();
    if (!this.filename) this.filename = this.typeName.replace(/^chardev-/, '');
  }

  protected abstract openBackend(): Promise<void>;

  /** Backend-specific write; returns bytes accepted, or -1 when the data was dropped. */
  protected abstract chrWrite(data: Buffer): number;

  // ---- frontend API (qemu_chr_fe_*) ----

  /**
   * Attach a frontend (qemu_chr_fe_init + set_handlers). An open backend reports OPENED at once.
   * `setOpen` is set_handlers' set_open: most frontends are open from the start; a virtserialport
   * passes false and opens when the guest opens the port (setFeOpen).
   */
  attachFrontend(fe: CharFrontend, setOpen = true): void {
    if (this.frontend) throw new QapiError(`Device '${this.label}' is in use`);
    this.frontend = fe;
    this.feOpen = setOpen;
    this.onFrontendChanged(true);
    if (this.beOpen) fe.event('opened');
    this.pumpInput();
  }

  detachFrontend(): void {
    this.frontend = null;
    this.feOpen = false;
    this.onFrontendChanged(false);
    this.pumpInput();
  }

  /** A frontend is attached, so chardev-remove refuses (qemu_chr_is_busy). */
  get busy(): boolean {
    return this.frontend !== null;
  }

  /** The frontend says it is open: query-chardev's "frontend-open" (CharBackend.fe_is_open). */
  get frontendOpen(): boolean {
    return this.frontend !== null && this.feOpen;
  }

  /** qemu_chr_fe_set_open(). */
  setFeOpen(open: boolean): void {
    if (this.frontend) this.feOpen = open;
  }

  /** chardev-send-break: the frontend sees a break (qemu_chr_be_event(CHR_EVENT_BREAK)). */
  sendBreak(): void {
    this.beEvent('break');
  }

  /** Frontend output (qemu_chr_fe_write_all). Returns the bytes taken, -1 if dropped. */
  write(data: Buffer | string): number {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const n = this.chrWrite(buf);
    if (this.logFd !== null) {
      try {
        fs.writeSync(this.logFd, n > 0 ? buf.subarray(0, n) : buf);
      } catch {
        // best effort, as QEMU's logfile
      }
    }
    return n;
  }

  /** Bytes written but not yet handed to the OS (a slow or stuck reader makes this grow). */
  outputBacklog(): number {
    return 0;
  }

  /** Drop the current connection, if the backend has one (qemu_chr_fe_disconnect). */
  disconnect(): void {}

  /** The frontend can take input again (qemu_chr_fe_accept_input). */
  acceptInput(): void {
    this.pumpInput();
  }

  /** Frontend's echo preference (qemu_chr_fe_set_echo); only stdio cares. */
  setEcho(_echo: boolean): void {}

  // ---- backend helpers ----

  /** Report an event to the frontend, tracking open state (qemu_chr_be_event). */
  protected beEvent(ev: ChrEvent): void {
    if (ev === 'opened') this.beOpen = true;
    if (ev === 'closed') {
      this.beOpen = false;
      this.inQueue.length = 0;
    }
    this.frontend?.event(ev);
  }

  /** Input from the source; delivered as the frontend allows (qemu_chr_be_write). */
  protected beReceive(data: Buffer): void {
    if (data.length === 0) return;
    this.inQueue.push(data);
    this.pumpInput();
  }

  /** Whether any received input still waits for the frontend. */
  protected get inputPending(): boolean {
    return this.inQueue.length > 0;
  }

  /**
   * A new source (connection, stdin) was attached in paused state: start it if the frontend can take
   * input. Resets the pause bookkeeping left over from a previous connection.
   */
  protected sourceAttached(): void {
    this.inputPaused = true;
    this.pumpInput();
  }

  /** Backends pause/resume their source here. */
  protected setSourcePaused(_paused: boolean): void {}

  /** Backends that care whether a frontend is attached (stdio echo) hook here. */
  protected onFrontendChanged(_attached: boolean): void {}

  private pumpInput(): void {
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.repump = false;
        while (this.inQueue.length > 0) {
          const fe = this.frontend;
          const n = fe ? fe.canRead() : 0;
          if (!fe || n <= 0) {
            this.pauseSource(true);
            return;
          }
          const head = this.inQueue[0]!;
          let chunk: Buffer;
          if (head.length <= n) {
            chunk = head;
            this.inQueue.shift();
          } else {
            chunk = head.subarray(0, n);
            this.inQueue[0] = head.subarray(n);
          }
          fe.read(chunk);
        }
      } while (this.repump);
      this.pauseSource(false);
    } finally {
      this.pumping = false;
    }
  }

  private pauseSource(paused: boolean): void {
    if (paused === this.inputPaused) return;
    this.inputPaused = paused;
    this.setSourcePaused(paused);
  }

  /** Release everything (object finalize). */
  async close(): Promise<void> {
    await this.closeBackend();
    if (this.logFd !== null) {
      try {
        fs.closeSync(this.logFd);
      } catch {
        // already closed
      }
      this.logFd = null;
    }
  }

  protected async closeBackend(): Promise<void> {}
}
