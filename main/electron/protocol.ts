/**
 * The renderer is served from a privileged app:// scheme rather than file://, so it has a real origin
 * (module scripts, a CSP header, origin checks on IPC) and can read nothing outside dist/renderer.
 */
import fs from 'node:fs';
import type { Protocol } from 'electron';
import { contentSecurityPolicy, securityHeaders } from '../web/csp.js';
import { resolveStatic } from '../web/static-files.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'vmstudio';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
};

export function handleAppProtocol(protocol: Protocol, rendererDir: string): void {
  const headers = securityHeaders(contentSecurityPolicy());
  protocol.handle(APP_SCHEME, (request) => {
    const url = new URL(request.url);
    const file = url.host === APP_HOST ? resolveStatic(rendererDir, url.pathname) : null;
    if (!file) return new Response('Not found', { status: 404, headers });
    return new Response(fs.readFileSync(file.file), {
      status: 200,
      headers: { ...headers, 'Content-Type': file.contentType, 'Cache-Control': file.cacheControl },
    });
  });
}
