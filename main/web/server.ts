/**
 * Web mode: the renderer and the API on 127.0.0.1 for a browser, when there is no Electron. Every
 * HTTP request and WebSocket upgrade passes WebAuth first; the API travels over one WebSocket as
 * `{id, method, params}` requests, `{id, result}` / `{id, error}` replies and `{event, data}` pushes.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiEventName, RpcResponse } from '../api/contract.js';
import { isApiMethod } from '../api/methods.js';
import type { VmService } from '../api/service.js';
import { errorPayload } from '../api/wire.js';
import { generateToken, WebAuth } from './auth.js';
import { contentSecurityPolicy, securityHeaders } from './csp.js';
import { resolveStatic } from './static-files.js';

export interface WebServerOptions {
  service: VmService;
  rendererDir: string;
  /** 0 = any free port. */
  port: number;
  token?: string;
}

export interface WebServer {
  port: number;
  token: string;
  url: string;
  close(): Promise<void>;
}

const MAX_MESSAGE = 8 * 1024 * 1024;

function deny(res: http.ServerResponse, headers: Record<string, string>): void {
  res.writeHead(403, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end('Forbidden: open VM Studio with the address it printed (it contains the access token).\n');
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? generateToken();
  const server = http.createServer();
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const auth = new WebAuth(token, port);
  const csp = contentSecurityPolicy([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]);
  const baseHeaders = securityHeaders(csp);

  server.on('request', (req, res) => {
    const decision = auth.checkRequest(req);
    if (!decision.ok) return deny(res, baseHeaders);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...baseHeaders, Allow: 'GET, HEAD' });
      res.end();
      return;
    }
    if (decision.setCookie) {
      res.writeHead(303, {
        ...baseHeaders,
        'Set-Cookie': decision.setCookie,
        Location: decision.redirect ?? '/',
        'Cache-Control': 'no-store',
      });
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', auth.origin);
    const file = resolveStatic(options.rendererDir, url.pathname);
    if (!file) {
      res.writeHead(404, { ...baseHeaders, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(
        url.pathname === '/'
          ? 'The renderer is not built (dist/renderer/index.html is missing).\n'
          : 'Not found\n',
      );
      return;
    }
    res.writeHead(200, {
      ...baseHeaders,
      'Content-Type': file.contentType,
      'Cache-Control': file.cacheControl,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    fs.createReadStream(file.file)
      .on('error', () => res.destroy())
      .pipe(res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  server.on('upgrade', (req, socket, head) => {
    const decision = auth.checkUpgrade(req);
    const url = new URL(req.url ?? '/', auth.origin);
    if (!decision.ok || url.pathname !== '/api') {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveApi(ws, options.service));
  });

  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** One UI connection: requests in, replies and events out. */
function serveApi(ws: WebSocket, service: VmService): void {
  const send = (msg: unknown): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  const unsubscribe = service.subscribe((event: ApiEventName, data) => send({ event, data }));
  ws.on('close', unsubscribe);
  ws.on('error', unsubscribe);
  ws.on('message', (raw, isBinary) => {
    let id: number | null = null;
    void (async () => {
      try {
        if (isBinary) throw new Error('binary messages are not supported');
        const msg = JSON.parse(raw.toString()) as { id?: unknown; method?: unknown; params?: unknown };
        if (typeof msg.id !== 'number' || !Number.isSafeInteger(msg.id))
          throw new Error("request lacks a numeric 'id'");
        id = msg.id;
        if (!isApiMethod(msg.method)) {
          throw Object.assign(new Error(`The command ${String(msg.method)} has not been found`), {
            errorClass: 'CommandNotFound',
          });
        }
        const params = msg.params === undefined ? [] : msg.params;
        if (!Array.isArray(params)) throw new Error("'params' must be an array");
        const result = await service.dispatch(msg.method, params);
        send({ id, result: result ?? null } satisfies RpcResponse);
      } catch (e) {
        if (id === null) {
          send({ id: -1, error: errorPayload(e) });
          return;
        }
        send({ id, error: errorPayload(e) } satisfies RpcResponse);
      }
    })();
  });
}
