import { afterEach, describe, expect, it } from 'vitest';
import { qdict, type QObject } from '../qobject/qobject.js';
import { QapiError } from './error.js';
import { type QmpCommandEntry, qmpDispatch, qmpIsOob, setQmpMachineReadyCheck } from './qmp-dispatch.js';

function entry(
  name: string,
  fn: QmpCommandEntry['fn'],
  o: Partial<QmpCommandEntry['options']> = {},
): QmpCommandEntry {
  return {
    name,
    fn,
    options: { allowOob: false, allowPreconfig: false, coroutine: false, ...o },
    features: [],
    enabled: true,
  };
}

const cmds = new Map<string, QmpCommandEntry>([
  ['ret', entry('ret', (args) => args['v'] ?? null)],
  ['ctx', entry('ctx', (_a, ctx) => qdict({ oob: ctx.oob, mon: ctx.monitor as string }), { allowOob: true })],
  ['pre', entry('pre', () => 1, { allowPreconfig: true })],
  ['fail', entry('fail', () => Promise.reject(new QapiError('nope', 'DeviceNotActive')))],
]);

afterEach(() => setQmpMachineReadyCheck(() => true));

describe('qmpDispatch', () => {
  it('returns {} for commands without a value and echoes the id after "return"', async () => {
    const r = (await qmpDispatch(cmds, qdict({ execute: 'ret', id: 7 }), false, null))!;
    expect(Object.keys(r)).toEqual(['return', 'id']);
    expect(r).toEqual({ return: {}, id: 7 });
    expect(
      await qmpDispatch(cmds, qdict({ execute: 'ret', arguments: qdict({ v: [1] }) }), false, null),
    ).toEqual({
      return: [1],
    });
  });

  it('puts "id" before "error", as QEMU prints it', async () => {
    const r = (await qmpDispatch(cmds, qdict({ execute: 'fail', id: 'x' }), false, null))!;
    expect(Object.keys(r)).toEqual(['id', 'error']);
    expect(r['error']).toEqual({ class: 'DeviceNotActive', desc: 'nope' });
  });

  it('passes the monitor and oob flag to the command', async () => {
    const req = qdict({ 'exec-oob': 'ctx' });
    expect(qmpIsOob(req)).toBe(true);
    expect(await qmpDispatch(cmds, req, true, 'M')).toEqual({ return: { oob: true, mon: 'M' } });
  });

  it('checks the machine phase unless the command allows preconfig', async () => {
    setQmpMachineReadyCheck(() => false);
    const r = (await qmpDispatch(cmds, qdict({ execute: 'ret' }), false, null))!;
    expect(r['error']).toEqual({
      class: 'GenericError',
      desc: "The command 'ret' is permitted only after machine initialization has completed",
    });
    expect(await qmpDispatch(cmds, qdict({ execute: 'pre' }), false, null)).toEqual({ return: 1 });
  });

  it('sends no reply for a successful command without success response', async () => {
    const quiet = new Map([['q', entry('q', () => null, { successResponse: false })]]);
    expect(await qmpDispatch(quiet, qdict({ execute: 'q', id: 1 }), false, null)).toBeNull();
  });

  it('never throws, whatever the request', async () => {
    const odd: QObject[] = [
      null,
      1,
      'x',
      [],
      qdict({ execute: qdict() }),
      qdict({ execute: 'ret', arguments: null }),
    ];
    for (const req of odd) {
      const r = (await qmpDispatch(cmds, req, true, null))!;
      expect(r['error']).toMatchObject({ class: 'GenericError' });
    }
  });
});
