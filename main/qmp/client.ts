/**
 * A QMP client speaking QEMU's wire protocol: read the greeting, negotiate with `qmp_capabilities`,
 * then send `{"execute", "arguments", "id"}` and match each reply to its request by id, while
 * asynchronous `{"event", "data", "timestamp"}` messages go to event listeners.
 *
 * This is the transport the generated typed client (main/generated/qmp-client.ts) runs over: its
 * `execute(cmd, args?)` resolves with the command's `return` value and rejects with QmpError.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { isQDict, type QDict, type QObject } from '../../engine/qobject/qobject.js';
import { JsonStreamSplitter, parseQmpJson, stringifyQmpJson } from './json.js';

/** The transport contract the generated typed client is built on. */
export interface QmpTransport {
  execute(command: string, args?: QDict | Record<string, unknown>): Promise<QObject>;
}

/** A QMP error reply, or a connection problem (errorClass 'GenericError'). */
export class QmpError extends Error {
  readonly errorClass: string;
  readonly command: string;
  constructor(errorClass: string, message: string, command: string) {
    super(message);
    this.name = 'QmpError';
    this.errorClass = errorClass;
    this.command = command;
  }
}

export interface QmpEvent {
  event: string;
  data: QDict;
  timestamp: { seconds: number; microseconds: number };
}

export interface QmpGreeting {
  version: QDict;
  capabilities: QObject[];
}

interface Pending {
  command: string;
  resolve(v: QObject): void;
  reject(e: Error): void;
}

export interface QmpClientOptions {
  /** How long to wait for the greeting and the capabilities reply (ms). */
  handshakeTimeoutMs?: number;
}

export class QmpClient implements QmpTransport {
  private readonly stream: Duplex;
  private readonly splitter = new JsonStreamSplitter();
  private readonly decoder = new StringDecoder('utf8');
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Set<(e: QmpEvent) => void>();
  private readonly closeListeners = new Set<(reason: Error | null) => void>();
  private nextId = 1;
  private closedWith: Error | null | undefined = undefined;
  private greetingWaiter: ((g: QmpGreeting) => void) | null = null;
  greeting: QmpGreeting | null = null;

  private constructor(stream: Duplex) {
    this.stream = stream;
    stream.on('data', (chunk: Buffer | string) => this.onData(chunk));
    stream.on('error', (e: Error) => this.shutdown(e));
    stream.on('close', () => this.shutdown(null));
    stream.on('end', () => this.shutdown(null));
  }

  /** Run the QMP handshake on a connected stream. */
  static async open(stream: Duplex, options: QmpClientOptions = {}): Promise<QmpClient> {
    const client = new QmpClient(stream);
    const timeout = options.handshakeTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          await client.waitGreeting();
          await client.execute('qmp_capabilities');
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new QmpError(
                  'GenericError',
                  `QMP handshake timed out after ${timeout} ms`,
                  'qmp_capabilities',
                ),
              ),
            timeout,
          );
        }),
      ]);
    } catch (e) {
      client.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** Connect to a QMP unix socket (or Windows named pipe) and negotiate. */
  static async connect(path: string, options: QmpClientOptions = {}): Promise<QmpClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(path);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    return QmpClient.open(socket, options);
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  private waitGreeting(): Promise<QmpGreeting> {
    if (this.greeting) return Promise.resolve(this.greeting);
    if (this.closedWith !== undefined) return Promise.reject(this.closeError('greeting'));
    return new Promise<QmpGreeting>((resolve, reject) => {
      this.greetingWaiter = resolve;
      this.closeListeners.add(() => reject(this.closeError('greeting')));
    });
  }

  private closeError(command: string): QmpError {
    const why = this.closedWith ? `: ${this.closedWith.message}` : '';
    return new QmpError('GenericError', `QMP connection closed${why}`, command);
  }

  execute(command: string, args?: QDict | Record<string, unknown>): Promise<QObject> {
    if (this.closedWith !== undefined) return Promise.reject(this.closeError(command));
    const id = this.nextId++;
    const msg: Record<string, unknown> = { execute: command };
    if (args && Object.keys(args).length > 0) msg.arguments = args;
    msg.id = id;
    return new Promise<QObject>((resolve, reject) => {
      this.pending.set(id, { command, resolve, reject });
      this.stream.write(`${stringifyQmpJson(msg)}\n`);
    });
  }

  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Called once when the connection ends (null: closed normally or by us). */
  onClose(listener: (reason: Error | null) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(): void {
    this.shutdown(null);
    this.stream.destroy();
  }

  private onData(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    for (const raw of this.splitter.push(text)) {
      let msg: QObject;
      try {
        msg = parseQmpJson(raw);
      } catch (e) {
        this.shutdown(new Error(`malformed QMP message from the engine (${(e as Error).message})`));
        this.stream.destroy();
        return;
      }
      if (isQDict(msg)) this.dispatch(msg);
    }
  }

  private dispatch(msg: QDict): void {
    if (!this.greeting && isQDict(msg.QMP)) {
      const qmp = msg.QMP;
      this.greeting = {
        version: isQDict(qmp.version) ? qmp.version : Object.create(null),
        capabilities: Array.isArray(qmp.capabilities) ? qmp.capabilities : [],
      };
      this.greetingWaiter?.(this.greeting);
      this.greetingWaiter = null;
      return;
    }
    if (typeof msg.event === 'string') {
      const ts = isQDict(msg.timestamp) ? msg.timestamp : null;
      const ev: QmpEvent = {
        event: msg.event,
        data: isQDict(msg.data) ? msg.data : Object.create(null),
        timestamp: { seconds: Number(ts?.seconds ?? 0), microseconds: Number(ts?.microseconds ?? 0) },
      };
      for (const l of [...this.eventListeners]) l(ev);
      return;
    }
    const id = typeof msg.id === 'number' ? msg.id : undefined;
    const p = id !== undefined ? this.pending.get(id) : undefined;
    if (!p || id === undefined) return; // a reply we did not ask for
    this.pending.delete(id);
    if ('return' in msg) {
      p.resolve(msg.return!);
    } else if (isQDict(msg.error)) {
      const cls = typeof msg.error.class === 'string' ? msg.error.class : 'GenericError';
      const desc = typeof msg.error.desc === 'string' ? msg.error.desc : 'unknown error';
      p.reject(new QmpError(cls, desc, p.command));
    } else {
      p.reject(new QmpError('GenericError', 'QMP reply has neither return nor error', p.command));
    }
  }

  private shutdown(reason: Error | null): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = reason;
    for (const [, p] of this.pending) p.reject(this.closeError(p.command));
    this.pending.clear();
    for (const l of [...this.closeListeners]) l(reason);
    this.closeListeners.clear();
    this.eventListeners.clear();
  }
}
