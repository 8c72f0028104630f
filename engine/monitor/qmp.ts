/**
 * A QMP monitor on a chardev (QEMU's monitor/qmp.c).
 *
 * Lifecycle per connection: OPENED → greeting, capability negotiation mode (only qmp_capabilities);
 * qmp_capabilities → full command set; CLOSED → drop queued requests, reset the JSON parser.
 *
 * Requests: the JSON streamer turns input into values; exec-oob requests (when the client enabled
 * "oob") run at once, everything else goes through an in-band queue that is answered strictly in
 * order. As in QEMU, the monitor stops reading its chardev when it cannot take more: with oob off
 * after every in-band request until it is answered (one at a time), with oob on when 8 requests are
 * queued (QMP_REQ_QUEUE_LEN_MAX). Input the streamer already split while reading was suspended is
 * held back and handled when reading resumes, exactly as if it had still been unread.
 *
 * Differences from QEMU, on purpose: each monitor has its own in-band dispatcher, so an async command
 * on one monitor does not hold up another (QEMU runs one dispatcher coroutine for all monitors);
 * a reply to a command whose client disconnected is dropped rather than sent to the next client;
 * and a client that does not read its output is disconnected once its unsent output exceeds a bound.
 */
import { yieldToMainLoop } from '../system/main-loop-yield.js';
import { type QDict, type QObject, isQDict, qdict } from '../qobject/qobject.js';
import { JsonStreamer, type JsonStreamLimits } from '../qobject/json-streamer.js';
import { toJson } from '../qobject/json-writer.js';
import { QapiError } from '../qapi/error.js';
import { type QmpCommandList, qmpDispatch, qmpErrorResponse, qmpIsOob } from '../qapi/qmp-dispatch.js';
import type { Chardev, ChrEvent } from '../chardev/char.js';
import { QEMU_COMPAT_VERSION, ENGINE_PACKAGE } from '../version.js';
import { type EventSink, getQmpCommands, monitorListAdd, monitorListRemove } from './monitor.js';
import { negotiationCommands } from './qmp-cmds-control.js';

/** QMP_REQ_QUEUE_LEN_MAX. */
export const QMP_REQ_QUEUE_LEN_MAX = 8;

/** Default bound on output a client has not read yet before we disconnect it. */
export const DEFAULT_MAX_OUTPUT_BACKLOG = 16 * 1024 * 1024;

export type QmpCapability = 'oob';

export interface MonitorQmpOptions {
  pretty?: boolean;
  /** Command table; defaults to the global one (setQmpCommands). */
  commands?: QmpCommandList;
  maxOutputBacklog?: number;
  /** JSON streamer limits (QEMU's defaults unless given; tests lower them). */
  jsonLimits?: Partial<JsonStreamLimits>;
}

interface QmpRequest {
  req: QObject | null;
  err: QapiError | null;
}

/** version/package, as query-version returns it (key order as QEMU prints it). */
export function qmpVersionInfo(): QDict {
  const { major, minor, micro } = QEMU_COMPAT_VERSION;
  return qdict({ qemu: qdict({ major, minor, micro }), package: ENGINE_PACKAGE });
}

export class MonitorQMP implements EventSink {
  readonly chr: Chardev;
  readonly pretty: boolean;
  private readonly ownCommands: QmpCommandList | undefined;
  private readonly maxOutputBacklog: number;
  private readonly jsonLimits: Partial<JsonStreamLimits>;

  /** Capability negotiation done (mon->commands == &qmp_commands). */
  negotiated = false;
  readonly capabOffered: Record<QmpCapability, boolean> = { oob: false };
  readonly capab: Record<QmpCapability, boolean> = { oob: false };

  private parser: JsonStreamer;
  private readonly queue: QmpRequest[] = [];
  /** Requests split from input while reading was suspended: logically still unread. */
  private readonly unread: QmpRequest[] = [];
  private suspendCnt = 0;
  private dispatching = false;
  /** Bumped on every disconnect, so replies to a previous client are dropped. */
  private generation = 0;
  private destroyed = false;

  constructor(chr: Chardev, opts: MonitorQmpOptions = {}) {
    this.chr = chr;
    this.pretty = opts.pretty ?? false;
    this.ownCommands = opts.commands;
    this.maxOutputBacklog = opts.maxOutputBacklog ?? DEFAULT_MAX_OUTPUT_BACKLOG;
    this.jsonLimits = opts.jsonLimits ?? {};
    this.parser = this.newParser();
  }

  /** Attach to the chardev and join the monitor list (monitor_init_qmp). */
  start(): this {
    this.chr.attachFrontend({
      canRead: () => (this.suspendCnt === 0 && !this.destroyed ? 4096 : 0),
      read: (data) => this.parser.feed(data),
      event: (ev) => this.onChrEvent(ev),
    });
    this.chr.setEcho(true);
    monitorListAdd(this);
    return this;
  }

  /** Detach (monitor_data_destroy); the chardev stays. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    monitorListRemove(this);
    this.queue.length = 0;
    this.unread.length = 0;
    this.generation++;
    this.chr.detachFrontend();
  }

  /** In-band requests waiting or running-next (never more than QMP_REQ_QUEUE_LEN_MAX). */
  get queuedRequests(): number {
    return this.queue.length;
  }

  get oobEnabled(): boolean {
    return this.capab.oob;
  }

  /** The table commands dispatch to: the full one after negotiation. */
  get commands(): QmpCommandList {
    const full = this.ownCommands ?? getQmpCommands();
    return this.negotiated ? full : negotiationCommands(full);
  }

  /** Called by qmp_capabilities (QEMU: mon->commands = &qmp_commands). */
  completeNegotiation(enable: readonly string[]): void {
    if (this.negotiated) {
      throw new QapiError('Capabilities negotiation is already complete, command ignored', 'CommandNotFound');
    }
    for (const cap of enable) {
      if (!(cap in this.capabOffered) || !this.capabOffered[cap as QmpCapability]) {
        throw new QapiError(`Capability '${cap}' not available`);
      }
    }
    for (const cap of enable) this.capab[cap as QmpCapability] = true;
    this.negotiated = true;
  }

  private newParser(): JsonStreamer {
    return new JsonStreamer(
      (value, error) => this.handleQmpCommand({ req: error ? null : value, err: error }),
      this.jsonLimits,
    );
  }

  private onChrEvent(ev: ChrEvent): void {
    if (ev === 'opened') {
      this.negotiated = false;
      this.capab.oob = false;
      // QEMU offers oob when the chardev can be served from the monitor I/O thread.
      this.capabOffered.oob = chardevSupportsOob(this.chr);
      this.sendResponse(this.greeting());
    } else if (ev === 'closed') {
      this.cleanupQueueAndResume();
      this.unread.length = 0;
      this.generation++;
      this.parser = this.newParser();
    }
  }

  private greeting(): QDict {
    const caps = (Object.keys(this.capabOffered) as QmpCapability[]).filter((c) => this.capabOffered[c]);
    return qdict({ QMP: qdict({ version: qmpVersionInfo(), capabilities: caps }) });
  }

  /** monitor_qmp_cleanup_queue_and_resume. */
  private cleanupQueueAndResume(): void {
    const needResume =
      (!this.oobEnabled || this.queue.length === QMP_REQ_QUEUE_LEN_MAX) && this.queue.length > 0;
    this.queue.length = 0;
    if (needResume) this.resume();
  }

  /** handle_qmp_command: the streamer produced a value or an error. */
  private handleQmpCommand(r: QmpRequest): void {
    if (this.destroyed) return;
    if (this.suspendCnt > 0) {
      this.unread.push(r);
      return;
    }
    if (r.req !== null && isQDict(r.req) && qmpIsOob(r.req)) {
      void this.dispatchAndRespond(r.req, this.generation, true);
      return;
    }
    if (!this.oobEnabled || this.queue.length === QMP_REQ_QUEUE_LEN_MAX - 1) this.suspend();
    this.queue.push(r);
    this.kickDispatcher();
  }

  private suspend(): void {
    this.suspendCnt++;
  }

  /** monitor_resume: hand over held-back input, then let the chardev deliver more. */
  private resume(): void {
    if (this.suspendCnt === 0) return;
    this.suspendCnt--;
    if (this.suspendCnt > 0) return;
    while (this.suspendCnt === 0 && this.unread.length > 0) this.handleQmpCommand(this.unread.shift()!);
    if (this.suspendCnt === 0 && !this.destroyed) this.chr.acceptInput();
  }

  private kickDispatcher(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    queueMicrotask(() => void this.dispatcher());
  }

  /** monitor_qmp_dispatcher_co, for this monitor only. */
  private async dispatcher(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.destroyed) {
        const r = this.queue.shift()!;
        const gen = this.generation;
        const oobEnabled = this.oobEnabled;
        if (oobEnabled && this.queue.length === QMP_REQ_QUEUE_LEN_MAX - 1) this.resume();
        if (r.req !== null || !r.err) {
          await this.dispatchAndRespond(r.req, gen, false);
        } else if (gen === this.generation) {
          this.sendResponse(qmpErrorResponse(r.err));
        }
        if (!oobEnabled) this.resume();
      }
    } finally {
      this.dispatching = false;
    }
  }

  private async dispatchAndRespond(req: QObject, gen: number, oob: boolean): Promise<void> {
    const negotiating = !this.negotiated;
    let rsp: QDict | null;
    try {
      rsp = await qmpDispatch(this.commands, req, this.oobEnabled, this);
    } catch (e) {
      // qmpDispatch never throws; this is a last line of defence for the process.
      rsp = qmpErrorResponse(new QapiError(e instanceof Error ? e.message : String(e)));
    }
    if (rsp === null) return;
    if (negotiating) {
      const err = rsp['error'];
      if (isQDict(err) && err['class'] === 'CommandNotFound') {
        err['desc'] = "Expecting capabilities negotiation with 'qmp_capabilities'";
      }
    }
    // In-band commands yield to the main loop before answering, as QEMU's dispatcher coroutine
    // does: a shutdown or reset the command requested is processed (and its event sent) first.
    if (!oob) await yieldToMainLoop();
    if (gen === this.generation && !this.destroyed) this.sendResponse(rsp);
  }

  sendEvent(ev: QDict): void {
    this.sendResponse(ev);
  }

  /** qmp_send_response + monitor_puts: one JSON document per line, "\n" written as "\r\n". */
  private sendResponse(rsp: QDict): void {
    if (this.destroyed) return;
    const text = (toJson(rsp, this.pretty, { qdictOrder: true }) + '\n').replace(/\n/g, '\r\n');
    if (!this.chr.beOpen) return;
    this.chr.write(text);
    if (this.chr.outputBacklog() > this.maxOutputBacklog) this.chr.disconnect();
  }
}

/** Chardevs QEMU can poll from the monitor I/O thread (QEMU_CHAR_FEATURE_GCONTEXT). */
function chardevSupportsOob(chr: Chardev): boolean {
  return ['chardev-socket', 'chardev-stdio', 'chardev-file', 'chardev-pipe'].includes(chr.typeName);
}
