/**
 * The socket chardev (QEMU's chardev/char-socket.c): a Unix or TCP stream, as a listening server or a
 * connecting client.
 *
 * Like QEMU, a server chardev serves ONE client at a time: further connections are accepted by the
 * OS but not served (QEMU leaves them in the listen backlog; we hold them paused, up to a small
 * limit) until the current client goes away. Several monitors therefore mean several chardevs.
 * A server with wait=on does not finish opening until the first client connected, printing QEMU's
 * "QEMU waiting for connection on: ..." line. We keep that exact text (including "QEMU") because
 * scripts written for QEMU wait for it on stderr.
 */
import fs from 'node:fs';
import net from 'node:net';
import { QapiError } from '../qapi/error.js';
import { Chardev, type ChardevSocket, type InetSocketAddress, type UnixSocketAddress } from './char.js';
import { chrReport } from './report.js';
import { strerror } from './strerror.js';

type State = 'disconnected' | 'connecting' | 'connected';

/** Connections accepted while another client is being served; beyond this they are refused. */
const MAX_PENDING_CLIENTS = 8;

/** Resolved address: inet with its real port once bound, or unix. */
type Addr = { type: 'inet'; data: InetSocketAddress } | { type: 'unix'; data: UnixSocketAddress };

export class SocketChardev extends Chardev {
  readonly typeName = 'chardev-socket';

  private readonly opts: ChardevSocket;
  private addr: Addr;
  private isListen = true;
  private state: State = 'disconnected';
  private server: net.Server | null = null;
  private sock: net.Socket | null = null;
  private readonly pending: net.Socket[] = [];
  private reconnectMs = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connectErrReported = false;
  private closed = false;
  /** Resolvers waiting for the first client (server wait=on). */
  private connectWaiters: Array<() => void> = [];

  constructor(label: string, opts: ChardevSocket) {
    super(label);
    this.opts = opts;
    const a = opts.addr;
    if (a.type === 'fd' || a.type === 'vsock') {
      throw new QapiError(`'${a.type}' socket addresses are not supported by this engine`);
    }
    this.addr =
      a.type === 'inet' ? { type: 'inet', data: { ...a.data } } : { type: 'unix', data: { ...a.data } };
  }

  /** QOM property "connected". */
  get connected(): boolean {
    return this.state === 'connected';
  }

  /** QOM property "addr" (SocketAddress, flat form). */
  get address(): { type: 'inet'; host: string; port: string } | { type: 'unix'; path: string } {
    return this.addr.type === 'inet'
      ? { type: 'inet', host: this.addr.data.host, port: this.addr.data.port }
      : { type: 'unix', path: this.addr.data.path };
  }

  protected async openBackend(): Promise<void> {
    const o = this.opts;
    if (o['tls-creds']) throw new QapiError(`No TLS credentials with id '${o['tls-creds']}'`);
    if (o['tls-authz']) throw new QapiError("'tls_authz' option requires 'tls_creds' option");
    const isListen = o.server ?? true;
    if (isListen) {
      if (o.reconnect !== undefined) {
        throw new QapiError("'reconnect' option is incompatible with socket in server listen mode");
      }
    } else {
      if (o.websocket) throw new QapiError('Websocket client is not implemented');
      if (o.wait !== undefined) {
        throw new QapiError("'wait' option is incompatible with socket in client connect mode");
      }
    }
    for (const [name, on] of [
      ['telnet', o.telnet],
      ['tn3270', o.tn3270],
      ['websocket', o.websocket],
    ] as const) {
      if (on) throw new QapiError(`'${name}' option is not supported by this engine`);
    }
    this.isListen = isListen;
    this.updateDisconnectedFilename();
    if (isListen) {
      await this.listen();
      this.updateDisconnectedFilename();
      if (o.wait ?? false) {
        chrReport('info', `QEMU waiting for connection on: ${this.filename}`);
        this.state = 'connecting';
        await new Promise<void>((resolve) => this.connectWaiters.push(resolve));
      }
    } else {
      this.reconnectMs = (o.reconnect ?? 0) * 1000;
      if (this.reconnectMs > 0) {
        void this.connectAsync();
      } else {
        const s = await this.connectOnce();
        this.newClient(s);
      }
    }
  }

  private describe(prefix: string): string {
    if (this.addr.type === 'inet') {
      const d = this.addr.data;
      return `${prefix}tcp:${d.host}:${d.port}${this.isListen ? ',server=on' : ''}`;
    }
    const d = this.addr.data;
    const abs = d.abstract ? `,abstract=on${d.tight === false ? '' : ',tight=on'}` : '';
    return `${prefix}unix:${d.path}${abs}${this.isListen ? ',server=on' : ''}`;
  }

  private updateDisconnectedFilename(): void {
    this.filename = this.describe('disconnected:');
  }

  /** Node's path for a unix address (abstract namespace names start with a NUL byte). */
  private unixPath(d: UnixSocketAddress): string {
    return d.abstract ? `\0${d.path}` : d.path;
  }

  private async listen(): Promise<void> {
    const server = net.createServer({ pauseOnConnect: true });
    server.on('connection', (s) => this.onAccept(s));
    server.on('error', () => {
      /* errors after listening are per-connection; nothing to do */
    });
    if (this.addr.type === 'unix') {
      const d = this.addr.data;
      if (!d.abstract) removeStaleSocket(d.path);
      try {
        await listenOn(server, { path: this.unixPath(d) });
      } catch (e) {
        throw new QapiError(`Failed to bind socket to ${d.path}: ${strerror(e)}`);
      }
    } else {
      const d = this.addr.data;
      const port = Number(d.port);
      if (!/^\d+$/.test(d.port) || port > 65535) {
        throw new QapiError(
          `address resolution failed for ${d.host}:${d.port}: Servname not supported for ai_socktype`,
        );
      }
      const opts: net.ListenOptions = { port, exclusive: true };
      // Bind exactly what was given; an empty host means every address, as in QEMU.
      if (d.host !== '') opts.host = stripBrackets(d.host);
      if (d.ipv6 === false && d.host === '') opts.host = '0.0.0.0';
      try {
        await listenOn(server, opts);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'EADDRINUSE') {
          throw new QapiError(`Failed to find an available port: ${strerror(e)}`);
        }
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
          throw new QapiError(`address resolution failed for ${d.host}:${d.port}: ${strerror(e)}`);
        }
        throw new QapiError(`Failed to bind socket: ${strerror(e)}`);
      }
      const bound = server.address();
      if (bound && typeof bound === 'object') d.port = String(bound.port);
    }
    this.server = server;
  }

  private onAccept(s: net.Socket): void {
    if (this.closed) {
      s.destroy();
      return;
    }
    if (this.state !== 'connected' && !this.sock) {
      this.newClient(s);
      return;
    }
    if (this.pending.length >= MAX_PENDING_CLIENTS) {
      s.destroy();
      return;
    }
    this.pending.push(s);
    const drop = (): void => {
      const i = this.pending.indexOf(s);
      if (i >= 0) this.pending.splice(i, 1);
    };
    s.on('close', drop);
    s.on('error', drop);
  }

  private connectOnce(): Promise<net.Socket> {
    this.state = 'connecting';
    return new Promise<net.Socket>((resolve, reject) => {
      const a = this.addr;
      const s =
        a.type === 'unix'
          ? net.connect({ path: this.unixPath(a.data) })
          : net.connect({ host: stripBrackets(a.data.host) || 'localhost', port: Number(a.data.port) });
      const onError = (e: Error): void => {
        this.state = 'disconnected';
        s.destroy();
        const where = a.type === 'unix' ? a.data.path : `${a.data.host}:${a.data.port}`;
        reject(new QapiError(`Failed to connect to '${where}': ${strerror(e)}`));
      };
      s.once('error', onError);
      s.once('connect', () => {
        s.off('error', onError);
        s.pause();
        resolve(s);
      });
    });
  }

  /** Client with reconnect: connect in the background, retrying every `reconnect` seconds. */
  private async connectAsync(): Promise<void> {
    if (this.closed || this.state !== 'disconnected') return;
    try {
      const s = await this.connectOnce();
      if (this.closed) {
        s.destroy();
        return;
      }
      this.connectErrReported = false;
      this.newClient(s);
    } catch (e) {
      if (!this.connectErrReported) {
        chrReport('error', `Unable to connect character device ${this.label}: ${(e as Error).message}`);
        this.connectErrReported = true;
      }
      this.restartReconnectTimer();
    }
  }

  private restartReconnectTimer(): void {
    if (this.closed || this.reconnectTimer || this.reconnectMs <= 0) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.beOpen) void this.connectAsync();
    }, this.reconnectMs);
    this.reconnectTimer.unref?.();
  }

  private newClient(s: net.Socket): void {
    this.sock = s;
    this.state = 'connected';
    if (this.opts.nodelay) s.setNoDelay(true);
    this.filename = this.computeFilename(s);
    s.on('data', (d: Buffer) => {
      if (this.sock === s) this.beReceive(d);
    });
    const gone = (): void => {
      if (this.sock === s) this.dropConnection();
    };
    s.on('end', gone);
    s.on('close', gone);
    s.on('error', gone);
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of waiters) w();
    this.beEvent('opened');
    this.sourceAttached();
  }

  private computeFilename(s: net.Socket): string {
    if (this.addr.type === 'unix') {
      return this.isListen ? `unix:${this.addr.data.path},server=on` : `unix:${this.addr.data.path}`;
    }
    const fmt = (h: string | undefined, p: number | undefined): string =>
      `${h && h.includes(':') ? `[${h}]` : (h ?? '')}:${p ?? ''}`;
    return `tcp:${fmt(s.localAddress, s.localPort)}${this.isListen ? ',server=on' : ''} <-> ${fmt(
      s.remoteAddress,
      s.remotePort,
    )}`;
  }

  /** tcp_chr_disconnect: close the connection, report CLOSED, serve the next client or reconnect. */
  private dropConnection(): void {
    const s = this.sock;
    if (!s) return;
    const wasConnected = this.state === 'connected';
    this.sock = null;
    this.state = 'disconnected';
    s.destroy();
    this.updateDisconnectedFilename();
    if (wasConnected) this.beEvent('closed');
    if (this.closed) return;
    if (this.isListen) {
      this.takePending();
    } else {
      this.restartReconnectTimer();
    }
  }

  private takePending(): void {
    while (!this.sock && this.pending.length > 0) {
      const next = this.pending.shift()!;
      if (next.destroyed || next.readyState !== 'open') continue;
      this.newClient(next);
    }
  }

  protected chrWrite(data: Buffer): number {
    const s = this.sock;
    if (this.state !== 'connected' || !s || s.destroyed) return -1;
    s.write(data);
    return data.length;
  }

  override outputBacklog(): number {
    return this.sock ? this.sock.writableLength : 0;
  }

  override disconnect(): void {
    this.dropConnection();
  }

  protected override setSourcePaused(paused: boolean): void {
    const s = this.sock;
    if (!s) return;
    if (paused) s.pause();
    else s.resume();
  }

  protected override async closeBackend(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    for (const p of this.pending.splice(0)) p.destroy();
    this.dropConnection();
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of waiters) w();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function listenOn(server: net.Server, opts: net.ListenOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(opts, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** QEMU unlinks the path before binding; we only remove a leftover socket, never a regular file. */
function removeStaleSocket(path: string): void {
  try {
    if (fs.lstatSync(path).isSocket()) fs.unlinkSync(path);
  } catch {
    // absent: fine
  }
}
