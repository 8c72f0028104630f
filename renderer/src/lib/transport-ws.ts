/**
 * VmStudioApi over the web mode's WebSocket: the same object shape the Electron preload exposes, so
 * nothing above this file knows which mode it runs in. Requests are `{id, method, params}`; replies
 * and pushed `{event, data}` messages come back on the same socket. The connection is re-established
 * with backoff if the server restarts; requests in flight when it drops fail with a clear error.
 */
import type { ApiEventMap, ApiEventName, ApiMethod, VmStudioApi } from '../../../main/api/contract.js';
// main's own list of request methods (a plain module without Node dependencies), so the two cannot drift.
import { API_METHODS } from '../../../main/api/methods.js';

/** The subset of the browser WebSocket this transport uses (tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export class ApiError extends Error {
  readonly errorClass: string;
  constructor(errorClass: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.errorClass = errorClass;
  }
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface WsTransportOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  /** Told about connection changes (the UI shows a banner while disconnected and reloads on reopen). */
  onConnection?: (state: ConnectionState) => void;
  /** Backoff schedule in ms for reconnect attempts. */
  retryDelays?: number[];
  setTimer?: (fn: () => void, ms: number) => unknown;
}

const OPEN = 1;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export interface WsTransport {
  api: VmStudioApi;
  close(): void;
}

export function createWsTransport(options: WsTransportOptions): WsTransport {
  const createSocket = options.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const delays = options.retryDelays ?? [250, 500, 1000, 2000, 5000];
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let queue: string[] = [];
  let nextId = 1;
  let socket: SocketLike | null = null;
  let attempt = 0;
  let closed = false;

  const failPending = (why: string): void => {
    for (const p of pending.values()) p.reject(new ApiError('GenericError', why));
    pending.clear();
  };

  const connect = (): void => {
    options.onConnection?.('connecting');
    const s = createSocket(options.url);
    socket = s;
    s.onopen = () => {
      attempt = 0;
      options.onConnection?.('open');
      const q = queue;
      queue = [];
      for (const m of q) s.send(m);
    };
    s.onmessage = (ev) => {
      let msg: {
        id?: number;
        result?: unknown;
        error?: { errorClass: string; message: string };
        event?: string;
        data?: unknown;
      };
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (typeof msg.event === 'string') {
        for (const l of [...(listeners.get(msg.event) ?? [])]) l(msg.data);
        return;
      }
      const p = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
      if (!p) return;
      pending.delete(msg.id!);
      if (msg.error) p.reject(new ApiError(msg.error.errorClass, msg.error.message));
      else p.resolve(msg.result);
    };
    s.onerror = () => undefined;
    s.onclose = () => {
      if (socket !== s) return;
      socket = null;
      failPending('Lost the connection to VM Studio');
      options.onConnection?.('closed');
      if (closed) return;
      const delay = delays[Math.min(attempt, delays.length - 1)]!;
      attempt++;
      setTimer(connect, delay);
    };
  };

  const invoke = (method: ApiMethod, params: unknown[]): Promise<unknown> => {
    if (closed) return Promise.reject(new ApiError('GenericError', 'The connection is closed'));
    const id = nextId++;
    // Trailing optional arguments left undefined are omitted (JSON would turn them into null).
    let n = params.length;
    while (n > 0 && params[n - 1] === undefined) n--;
    const text = JSON.stringify({ id, method, params: params.slice(0, n) });
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (socket && socket.readyState === OPEN) socket.send(text);
      else queue.push(text);
    });
  };

  const api: Record<string, unknown> = {};
  for (const method of API_METHODS) {
    const [group, name] = method.split('.') as [string, string];
    const g = (api[group] ??= {}) as Record<string, unknown>;
    g[name] = (...params: unknown[]) => invoke(method, params);
  }
  api.on = <E extends ApiEventName>(event: E, listener: (payload: ApiEventMap[E]) => void): (() => void) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const l = listener as (p: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  };

  connect();
  return {
    api: api as unknown as VmStudioApi,
    close: () => {
      closed = true;
      socket?.close();
    },
  };
}

/** The API endpoint of the page's own server (the auth cookie travels with the upgrade request). */
export function apiUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/api`;
}
