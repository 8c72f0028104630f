import { PassThrough, Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { QmpClient, QmpError, type QmpEvent } from './client.js';

/** An in-memory QMP peer: the test reads what the client wrote and scripts the engine's replies. */
function pair(): { client: Duplex; engineOut: PassThrough; written: string[] } {
  const engineOut = new PassThrough();
  const written: string[] = [];
  const client = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      written.push(chunk.toString());
      cb();
    },
  });
  engineOut.on('data', (d) => client.push(d));
  engineOut.on('end', () => client.push(null));
  return { client, engineOut, written };
}

const GREETING =
  '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}\r\n';

async function handshake() {
  const p = pair();
  const opening = QmpClient.open(p.client, { handshakeTimeoutMs: 2000 });
  p.engineOut.write(GREETING);
  await new Promise((r) => setImmediate(r));
  expect(JSON.parse(p.written[0]!)).toEqual({ execute: 'qmp_capabilities', id: 1 });
  p.engineOut.write('{"return": {}, "id": 1}\r\n');
  const client = await opening;
  return { ...p, qmp: client };
}

describe('QmpClient', () => {
  it('negotiates capabilities after the greeting', async () => {
    const { qmp } = await handshake();
    expect(qmp.greeting?.capabilities).toEqual(['oob']);
  });

  it('matches replies to requests by id, in any order', async () => {
    const { qmp, engineOut, written } = await handshake();
    const a = qmp.execute('query-status');
    const b = qmp.execute('qom-get', { path: '/machine', property: 'type' });
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(written[2]!)).toEqual({
      execute: 'qom-get',
      arguments: { path: '/machine', property: 'type' },
      id: 3,
    });
    engineOut.write(
      '{"return": "virt-machine", "id": 3}\r\n{"return": {"status": "running", "running": true}, "id": 2}\r\n',
    );
    expect(await b).toBe('virt-machine');
    expect(await a).toEqual({ status: 'running', running: true });
  });

  it('rejects with QmpError carrying the error class and description', async () => {
    const { qmp, engineOut } = await handshake();
    const r = qmp.execute('nope');
    engineOut.write(
      '{"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}, "id": 2}\n',
    );
    await expect(r).rejects.toMatchObject({
      name: 'QmpError',
      errorClass: 'CommandNotFound',
      message: 'The command nope has not been found',
      command: 'nope',
    });
  });

  it('delivers events with data and timestamp', async () => {
    const { qmp, engineOut } = await handshake();
    const seen: QmpEvent[] = [];
    qmp.onEvent((e) => seen.push(e));
    engineOut.write(
      '{"timestamp": {"seconds": 5, "microseconds": 7}, "event": "DEVICE_DELETED", "data": {"device": "rng0", "path": "/machine/peripheral/rng0"}}\r\n',
    );
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([
      {
        event: 'DEVICE_DELETED',
        data: { device: 'rng0', path: '/machine/peripheral/rng0' },
        timestamp: { seconds: 5, microseconds: 7 },
      },
    ]);
  });

  it('fails pending commands when the connection closes', async () => {
    const { qmp, engineOut } = await handshake();
    const r = qmp.execute('query-status');
    engineOut.end();
    await expect(r).rejects.toThrow(QmpError);
    await expect(qmp.execute('x')).rejects.toThrow(/QMP connection closed/);
  });

  it('times out a peer that never greets', async () => {
    const p = pair();
    await expect(QmpClient.open(p.client, { handshakeTimeoutMs: 50 })).rejects.toThrow(/handshake timed out/);
  });
});
