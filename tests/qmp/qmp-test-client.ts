/**
 * A small QMP client for protocol tests: connects to a Unix socket or TCP port, splits the server's
 * "\r\n"-terminated lines into JSON messages and lets a test await replies by id, events by name,
 * or raw lines. Deliberately independent of the engine's JSON code (uses JSON.parse).
 */
import net from 'node:net';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type QmpMessage = { [k: string]: Json };

export class QmpTestClient {
  readonly socket: net.Socket;
  /** Every complete line received, raw (without the line terminator). */
  readonly lines: string[] = [];
  /** Every message received, in order. */
  readonly messages: QmpMessage[] = [];
  private buf = '';
  private waiters: Array<() => void> = [];
  closed = false;
  private nextId = 1;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.onData(d));
    const end = (): void => {
      this.closed = true;
      this.wake();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  static connect(target: { path: string } | { port: number; host?: string }): Promise<QmpTestClient> {
    return new Promise((resolve, reject) => {
      const s =
        'path' in target ? net.connect(target.path) : net.connect(target.port, target.host ?? '127.0.0.1');
      s.once('connect', () => resolve(new QmpTestClient(s)));
      s.once('error', reject);
    });
  }

  private onData(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\r\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      this.lines.push(line);
      try {
        this.messages.push(JSON.parse(line) as QmpMessage);
      } catch {
        // pretty output spans lines; tests read `lines` for it
      }
    }
    this.wake();
  }

  /** Raw text received but not yet terminated by "\r\n". */
  get partial(): string {
    return this.buf;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolve when `pred` holds for the received data, or reject after `timeoutMs`. */
  async until<T>(pred: () => T | undefined | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v !== undefined && v !== false) return v;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The n-th message (0-based), waiting for it. */
  message(n: number, timeoutMs?: number): Promise<QmpMessage> {
    return this.until(() => this.messages[n], timeoutMs, `message #${n}`);
  }

  greeting(): Promise<QmpMessage> {
    return this.message(0);
  }

  /** Send raw text. */
  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Send a request and await the reply carrying its id. */
  async execute(
    command: string,
    args?: { [k: string]: Json },
    opts: { oob?: boolean; id?: Json } = {},
  ): Promise<QmpMessage> {
    const id = 'id' in opts ? (opts.id as Json) : `c${this.nextId++}`;
    const req: QmpMessage = { [opts.oob ? 'exec-oob' : 'execute']: command, id };
    if (args) req['arguments'] = args;
    this.send(JSON.stringify(req) + '\n');
    return this.reply(id);
  }

  /** Await the reply with this id. */
  reply(id: Json, timeoutMs?: number): Promise<QmpMessage> {
    const key = JSON.stringify(id);
    return this.until(
      () =>
        this.messages.find(
          (m) => 'id' in m && JSON.stringify(m['id']) === key && ('return' in m || 'error' in m),
        ),
      timeoutMs,
      `reply ${key}`,
    );
  }

  /** Await an event by name (the first one after `from` messages). */
  event(name: string, from = 0, timeoutMs?: number): Promise<QmpMessage> {
    return this.until(
      () => this.messages.slice(from).find((m) => m['event'] === name),
      timeoutMs,
      `event ${name}`,
    );
  }

  /** Greeting + qmp_capabilities. */
  async negotiate(enable?: string[]): Promise<void> {
    await this.greeting();
    const r = await this.execute('qmp_capabilities', enable ? { enable } : undefined);
    if (!('return' in r)) throw new Error(`negotiation failed: ${JSON.stringify(r)}`);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      this.socket.destroy();
    });
  }
}
