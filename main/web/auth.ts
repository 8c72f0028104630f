/**
 * Web mode's access check. The server listens on 127.0.0.1, but any local program and any web page
 * the user visits can reach that port, so: every request needs the random token (from the URL once,
 * then from an HttpOnly SameSite=Strict cookie), the Host header must name our loopback address (DNS
 * rebinding), and WebSocket upgrades must also come from our own origin (cross-site WebSocket hijacking).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface RequestLike {
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export type AuthDecision =
  | {
      ok: true;
      /** Set this cookie and redirect to the clean URL (the token leaves the address bar). */ setCookie?: string;
      redirect?: string;
    }
  | { ok: false; reason: string };

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

function header(req: RequestLike, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseCookies(h: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!h) return out;
  for (const part of h.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

export class WebAuth {
  private readonly token: Buffer;
  readonly cookieName: string;

  constructor(
    token: string,
    readonly port: number,
  ) {
    this.token = Buffer.from(token);
    // Cookies are not scoped by port: name it per port so two instances never share one.
    this.cookieName = `vmstudio_token_${port}`;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private tokenMatches(candidate: string | null | undefined): boolean {
    if (!candidate) return false;
    const c = Buffer.from(candidate);
    return c.length === this.token.length && timingSafeEqual(c, this.token);
  }

  private hostOk(req: RequestLike): boolean {
    const host = header(req, 'host');
    return host === `127.0.0.1:${this.port}` || host === `localhost:${this.port}`;
  }

  /** Decide an HTTP request. */
  checkRequest(req: RequestLike): AuthDecision {
    if (!this.hostOk(req)) return { ok: false, reason: 'unexpected Host header' };
    const url = new URL(req.url ?? '/', this.origin);
    const fromQuery = url.searchParams.get('token');
    if (fromQuery !== null) {
      if (!this.tokenMatches(fromQuery)) return { ok: false, reason: 'invalid token' };
      url.searchParams.delete('token');
      return {
        ok: true,
        setCookie: `${this.cookieName}=${fromQuery}; HttpOnly; SameSite=Strict; Path=/`,
        redirect: url.pathname + url.search,
      };
    }
    if (this.tokenMatches(parseCookies(header(req, 'cookie')).get(this.cookieName))) return { ok: true };
    return { ok: false, reason: 'missing token' };
  }

  /** Decide a WebSocket upgrade: the token (cookie or query) and our own Origin. */
  checkUpgrade(req: RequestLike): AuthDecision {
    if (!this.hostOk(req)) return { ok: false, reason: 'unexpected Host header' };
    const origin = header(req, 'origin');
    if (origin !== this.origin && origin !== `http://localhost:${this.port}`) {
      return { ok: false, reason: 'cross-origin WebSocket refused' };
    }
    const url = new URL(req.url ?? '/', this.origin);
    const candidate =
      url.searchParams.get('token') ?? parseCookies(header(req, 'cookie')).get(this.cookieName);
    return this.tokenMatches(candidate) ? { ok: true } : { ok: false, reason: 'missing token' };
  }
}
