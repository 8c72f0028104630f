/**
 * Web mode end to end at the protocol level: the token gate on HTTP and WebSocket, then the API
 * (the broker) over the WebSocket against the fake engine: create, start, console, events, stop.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWebApp, type WebApp } from '../app/web-mode.js';
import { fakeEngineCommand } from '../supervisor/testing/fake-engine.js';

let dir: string;
let app: WebApp;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmstudio-web-'));
  const rendererDir = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>VM Studio</title>');
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
  app = await startWebApp(
    { web: true, port: 0, dataDir: path.join(dir, 'data'), help: false, defaultVm: false },
    {
      rendererDir,
      guestsDir: path.join(dir, 'guests'),
      engine: fakeEngineCommand(),
      timeouts: { powerdownMs: 2000, killMs: 500 },
    },
  );
});
afterEach(async () => {
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function get(
  p: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: app.server.port, path: p, headers }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

function connect(headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${app.server.port}/api`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** A minimal client of the wire protocol (the renderer's transport-ws.ts does the same in the browser). */
function rpc(ws: WebSocket) {
  let next = 1;
  const pending = new Map<number, (m: any) => void>();
  const events: { event: string; data: any }[] = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString());
    if ('event' in m) events.push(m);
    else pending.get(m.id)?.(m);
  });
  const call = (method: string, ...params: unknown[]) =>
    new Promise<any>((resolve, reject) => {
      const id = next++;
      pending.set(id, (m) =>
        m.error ? reject(Object.assign(new Error(m.error.message), m.error)) : resolve(m.result),
      );
      ws.send(JSON.stringify({ id, method, params }));
    });
  const waitEvent = async (pred: (e: { event: string; data: any }) => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const e = events.find(pred);
      if (e) return e;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('event not received');
  };
  return { call, events, waitEvent };
}

describe('web mode HTTP', () => {
  it('prints a URL with a 32-byte token on 127.0.0.1', () => {
    expect(app.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  });

  it('answers 403 without a token or with a wrong one', async () => {
    expect((await get('/')).status).toBe(403);
    expect((await get('/assets/app.js')).status).toBe(403);
    expect((await get('/?token=wrong')).status).toBe(403);
  });

  it('trades the token for a cookie, then serves files with a strict CSP, never outside the renderer', async () => {
    const first = await get(`/?token=${app.server.token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = first.headers['set-cookie']![0]!.split(';')[0]!;
    expect(first.headers['set-cookie']![0]).toContain('HttpOnly; SameSite=Strict');
    const page = await get('/', { cookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>VM Studio</title>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await get('/assets/app.js', { cookie })).headers['content-type']).toMatch(/javascript/);
    expect((await get('/../secret.txt', { cookie })).status).toBe(404);
    expect((await get('/%2e%2e/secret.txt', { cookie })).status).toBe(404);
  });
});

describe('web mode WebSocket API', () => {
  const origin = () => `http://127.0.0.1:${app.server.port}`;

  it('creates a VM from a guest template and resolves its boot files at start', async () => {
    const guests = path.join(dir, 'guests', 'tiny');
    fs.mkdirSync(guests, { recursive: true });
    fs.writeFileSync(
      path.join(guests, 'guest.json'),
      JSON.stringify({
        id: 'tiny',
        title: 'Tiny',
        description: 'test',
        machine: 'none',
        cpus: 1,
        memoryMiB: 64,
        kernel: 'Image',
        append: 'console=ttyS0',
      }),
    );
    const ws = await connect({
      origin: origin(),
      cookie: `vmstudio_token_${app.server.port}=${app.server.token}`,
    });
    const { call } = rpc(ws);
    expect(await call('guests.list')).toEqual([
      {
        id: 'tiny',
        title: 'Tiny',
        description: 'test',
        machine: 'none',
        cpus: 1,
        memoryMiB: 64,
        available: false,
        missing: ['Image'],
      },
    ]);
    const vm = await call('vms.create', { name: 'from-template', guest: 'tiny', cpus: 1, memoryMiB: 64 });
    expect(vm).toMatchObject({ guest: 'tiny', machine: 'none', kernel: null, append: null });
    await expect(call('vms.start', vm.id)).rejects.toThrow(
      "VM 'from-template' cannot start: the files of the guest 'Tiny' are not installed (missing: Image)",
    );
    fs.writeFileSync(path.join(guests, 'Image'), 'kernel');
    await call('vms.start', vm.id);
    const { argv } = await call('qmp.execute', vm.id, 'x-argv');
    expect(argv.slice(argv.indexOf('-kernel'), argv.indexOf('-kernel') + 4)).toEqual([
      '-kernel',
      path.join(guests, 'Image'),
      '-append',
      'console=ttyS0',
    ]);
    await call('vms.stop', vm.id, true);
    await expect(call('vms.create', { name: 'x', guest: 'nope', cpus: 1, memoryMiB: 64 })).rejects.toThrow(
      "Unknown guest 'nope'",
    );
    ws.close();
  });

  it('refuses upgrades without the token or from another origin', async () => {
    await expect(connect({ origin: origin() })).rejects.toThrow('HTTP 403');
    await expect(
      connect({
        origin: 'http://evil.example',
        cookie: `vmstudio_token_${app.server.port}=${app.server.token}`,
      }),
    ).rejects.toThrow('HTTP 403');
  });

  it('creates, starts, drives the console of, and stops a VM, pushing events', async () => {
    const ws = await connect({
      origin: origin(),
      cookie: `vmstudio_token_${app.server.port}=${app.server.token}`,
    });
    const { call, events, waitEvent } = rpc(ws);
    expect(await call('app.info')).toMatchObject({ mode: 'web', dataDir: path.join(dir, 'data') });
    const vm = await call('vms.create', {
      name: 'box',
      guest: null,
      machine: 'none',
      cpus: 1,
      memoryMiB: 64,
      disks: [{ sizeMiB: 8 }],
    });
    expect(vm).toMatchObject({
      name: 'box',
      state: 'stopped',
      disks: [{ format: 'raw', interface: 'virtio' }],
    });
    expect(fs.statSync(vm.disks[0].file).size).toBe(8 * 1024 * 1024);
    await waitEvent((e) => e.event === 'vms-changed');
    // A new qcow2 disk (what the wizard asks for), and an existing image whose format is probed.
    const q = await call('vms.create', {
      name: 'qbox',
      guest: null,
      machine: 'none',
      cpus: 1,
      memoryMiB: 64,
      disks: [{ sizeMiB: 16, format: 'qcow2' }],
    });
    expect(q.disks).toMatchObject([{ format: 'qcow2', interface: 'virtio' }]);
    expect(q.disks[0].file).toMatch(/disk0\.qcow2$/);
    expect(fs.readFileSync(q.disks[0].file).subarray(0, 4).toString('latin1')).toBe('QFI\xfb');
    const probed = await call('vms.create', {
      name: 'pbox',
      guest: null,
      machine: 'none',
      cpus: 1,
      memoryMiB: 64,
      disks: [
        { file: q.disks[0].file, readonly: true },
        { file: vm.disks[0].file, readonly: true },
      ],
    });
    expect(probed.disks.map((d: { format: string }) => d.format)).toEqual(['qcow2', 'raw']);
    await call('vms.delete', probed.id);
    await call('vms.delete', q.id);
    await expect(call('vms.create', { name: 'BOX', guest: null, cpus: 1, memoryMiB: 64 })).rejects.toThrow(
      "A VM named 'BOX' already exists",
    );
    await expect(call('vms.create', { name: 'x', guest: null, cpus: 0, memoryMiB: 64 })).rejects.toThrow(
      "Parameter 'cpus' must be between 1 and 64",
    );
    await expect(call('no.such')).rejects.toMatchObject({ errorClass: 'CommandNotFound' });

    await call('vms.start', vm.id);
    await waitEvent((e) => e.event === 'vm-state' && e.data.state === 'running');
    await waitEvent((e) => e.event === 'console-output' && e.data.data.includes('login: '));
    await call('console.write', vm.id, 'uname\r');
    await waitEvent((e) => e.event === 'console-output' && e.data.data.includes('uname'));
    expect(await call('console.history', vm.id)).toContain('Booting box');
    // Saved while running: the engine picks it up at the next start ("changes pending restart").
    expect(await call('vms.update', vm.id, { cpus: 2, notes: 'n' })).toMatchObject({
      cpus: 2,
      state: 'running',
      pendingRestart: ['cpus'],
    });
    await call('vms.pause', vm.id);
    await waitEvent((e) => e.event === 'qmp-event' && e.data.event === 'STOP' && e.data.vmId === vm.id);
    expect(await call('qmp.execute', vm.id, 'query-status')).toMatchObject({
      status: 'paused',
      running: false,
    });
    expect(await call('qmp.execute', vm.id, 'x-big-number')).toEqual({ value: '18446744073709551615' });
    expect(await call('qmp.execute', vm.id, 'query-name', null)).toEqual({ name: 'box' });
    await expect(call('qmp.execute', vm.id, 'query-name', [1])).rejects.toThrow(
      "Parameter 'arguments' expects an object",
    );
    await expect(call('qmp.execute', vm.id, 'bogus')).rejects.toMatchObject({
      errorClass: 'CommandNotFound',
      message: 'The command bogus has not been found',
    });
    await call('vms.stop', vm.id);
    expect(await call('vms.get', vm.id)).toMatchObject({ state: 'stopped', pendingRestart: [] });
    expect((await call('log.list', vm.id)).map((e: any) => e.message)).toEqual([
      'Stopped',
      "Configuration of 'box' changed",
      'Running',
      'Starting',
      "VM 'box' created",
    ]);
    await call('vms.delete', vm.id);
    expect(await call('vms.list')).toEqual([]);
    expect(fs.existsSync(path.dirname(vm.disks[0].file))).toBe(false);
    expect(events.some((e) => e.event === 'log')).toBe(true);
    ws.close();
  });
});
