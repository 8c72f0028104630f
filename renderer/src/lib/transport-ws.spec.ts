import { describe, expect, it } from 'vitest';
import { API_METHODS } from '../../../main/api/methods.js';
import { apiUrl, createWsTransport, type SocketLike } from './transport-ws.js';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: any[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
    this.onclose?.({});
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: (() => void)[] = [];
  const states: string[] = [];
  const t = createWsTransport({
    url: 'ws://127.0.0.1:1/api',
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    onConnection: (s) => states.push(s),
    setTimer: (fn) => timers.push(fn),
  });
  return { t, sockets, timers, states };
}

describe('WebSocket transport', () => {
  it("exposes exactly main's methods, each sending its own name", () => {
    const { t, sockets } = setup();
    sockets[0]!.open();
    const groups = t.api as unknown as Record<string, Record<string, () => Promise<unknown>>>;
    const exposed = Object.keys(groups)
      .filter((g) => g !== 'on')
      .flatMap((g) => Object.keys(groups[g]!).map((n) => `${g}.${n}`));
    expect(exposed.sort()).toEqual([...API_METHODS].sort());
    for (const m of API_METHODS) {
      const [g, n] = m.split('.') as [string, string];
      void groups[g]![n]!();
    }
    expect(sockets[0]!.sent.map((r) => r.method)).toEqual([...API_METHODS]);
  });

  it('queues requests until the socket opens, then matches replies by id', async () => {
    const { t, sockets } = setup();
    const list = t.api.vms.list();
    const get = t.api.vms.get('a');
    expect(sockets[0]!.sent).toEqual([]);
    sockets[0]!.open();
    expect(sockets[0]!.sent).toEqual([
      { id: 1, method: 'vms.list', params: [] },
      { id: 2, method: 'vms.get', params: ['a'] },
    ]);
    sockets[0]!.receive({ id: 2, result: { id: 'a' } });
    sockets[0]!.receive({ id: 1, result: [] });
    expect(await get).toEqual({ id: 'a' });
    expect(await list).toEqual([]);
  });

  it('omits trailing undefined arguments instead of sending null', () => {
    const { t, sockets } = setup();
    sockets[0]!.open();
    void t.api.qmp.execute('vm', 'query-status');
    void t.api.qmp.execute('vm', 'qom-list', { path: '/' });
    expect(sockets[0]!.sent).toEqual([
      { id: 1, method: 'qmp.execute', params: ['vm', 'query-status'] },
      { id: 2, method: 'qmp.execute', params: ['vm', 'qom-list', { path: '/' }] },
    ]);
  });

  it('rejects with the server error class and message', async () => {
    const { t, sockets } = setup();
    sockets[0]!.open();
    const p = t.api.vms.start('a');
    sockets[0]!.receive({ id: 1, error: { errorClass: 'GenericError', message: "VM 'a' is running" } });
    await expect(p).rejects.toMatchObject({ errorClass: 'GenericError', message: "VM 'a' is running" });
  });

  it('dispatches pushed events to subscribers', () => {
    const { t, sockets } = setup();
    sockets[0]!.open();
    const got: unknown[] = [];
    const off = t.api.on('console-output', (p) => got.push(p.data));
    sockets[0]!.receive({ event: 'console-output', data: { vmId: 'a', data: 'hi' } });
    off();
    sockets[0]!.receive({ event: 'console-output', data: { vmId: 'a', data: 'ignored' } });
    expect(got).toEqual(['hi']);
  });

  it('fails requests in flight when the connection drops and reconnects with backoff', async () => {
    const { t, sockets, timers, states } = setup();
    sockets[0]!.open();
    const p = t.api.vms.list();
    sockets[0]!.close();
    await expect(p).rejects.toThrow('Lost the connection to VM Studio');
    expect(states).toEqual(['connecting', 'open', 'closed']);
    timers.shift()!();
    expect(sockets).toHaveLength(2);
    const q = t.api.vms.list();
    sockets[1]!.open();
    sockets[1]!.receive({ id: 2, result: ['ok'] });
    expect(await q).toEqual(['ok']);
    t.close();
    expect(timers).toHaveLength(0);
  });

  it('derives the API address from the page location', () => {
    expect(apiUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/api');
  });
});
