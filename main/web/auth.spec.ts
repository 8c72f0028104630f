import { describe, expect, it } from 'vitest';
import { generateToken, WebAuth } from './auth.js';

const PORT = 43210;
const token = generateToken();
const auth = new WebAuth(token, PORT);
const host = { host: `127.0.0.1:${PORT}` };

describe('WebAuth HTTP requests', () => {
  it('generates 32 random bytes as URL-safe text', () => {
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(generateToken()).not.toBe(token);
  });

  it('refuses a request without a token', () => {
    expect(auth.checkRequest({ url: '/', headers: host })).toEqual({ ok: false, reason: 'missing token' });
    expect(auth.checkRequest({ url: '/assets/index.js', headers: host }).ok).toBe(false);
  });

  it('refuses a wrong token, including one that differs only in length', () => {
    expect(auth.checkRequest({ url: `/?token=${token.slice(0, -1)}x`, headers: host })).toEqual({
      ok: false,
      reason: 'invalid token',
    });
    expect(auth.checkRequest({ url: `/?token=${token}A`, headers: host }).ok).toBe(false);
    expect(auth.checkRequest({ url: '/?token=', headers: host }).ok).toBe(false);
  });

  it('accepts the token once and sets an HttpOnly SameSite=Strict cookie, redirecting to the clean URL', () => {
    const d = auth.checkRequest({ url: `/?token=${token}&x=1`, headers: host });
    expect(d).toEqual({
      ok: true,
      setCookie: `vmstudio_token_${PORT}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      redirect: '/?x=1',
    });
  });

  it('accepts the cookie afterwards, and only the cookie for this port', () => {
    expect(
      auth.checkRequest({
        url: '/assets/a.js',
        headers: { ...host, cookie: `other=1; vmstudio_token_${PORT}=${token}` },
      }),
    ).toEqual({
      ok: true,
    });
    expect(
      auth.checkRequest({ url: '/', headers: { ...host, cookie: `vmstudio_token_1=${token}` } }).ok,
    ).toBe(false);
    expect(
      auth.checkRequest({ url: '/', headers: { ...host, cookie: `vmstudio_token_${PORT}=nope` } }).ok,
    ).toBe(false);
  });

  it('refuses a valid token sent to another Host name (DNS rebinding)', () => {
    expect(auth.checkRequest({ url: `/?token=${token}`, headers: { host: `evil.example:${PORT}` } })).toEqual(
      {
        ok: false,
        reason: 'unexpected Host header',
      },
    );
  });
});

describe('WebAuth WebSocket upgrades', () => {
  const cookie = `vmstudio_token_${PORT}=${token}`;
  it('accepts our origin with the cookie or the token', () => {
    expect(
      auth.checkUpgrade({ url: '/api', headers: { ...host, origin: `http://127.0.0.1:${PORT}`, cookie } }).ok,
    ).toBe(true);
    expect(
      auth.checkUpgrade({
        url: `/api?token=${token}`,
        headers: { ...host, origin: `http://127.0.0.1:${PORT}` },
      }).ok,
    ).toBe(true);
  });

  it('refuses another origin even with a valid cookie', () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${PORT + 1}`, 'null', undefined]) {
      const d = auth.checkUpgrade({ url: '/api', headers: { ...host, origin, cookie } });
      expect(d).toEqual({ ok: false, reason: 'cross-origin WebSocket refused' });
    }
  });

  it('refuses our origin without a valid token', () => {
    expect(
      auth.checkUpgrade({ url: '/api', headers: { ...host, origin: `http://127.0.0.1:${PORT}` } }).ok,
    ).toBe(false);
    expect(
      auth.checkUpgrade({ url: '/api?token=bad', headers: { ...host, origin: `http://127.0.0.1:${PORT}` } })
        .ok,
    ).toBe(false);
  });
});
