/**
 * Tests of the code generated from engine/qapi/schema (engine/qapi/generated, main/generated, built by
 * `npm run gen`): visitors round-trip values through the real input/output/clone visitors, the
 * command table marshals like QEMU's qmp_marshal_*(), events, the typed client, and the
 * introspection data against QEMU 7.2's query-qmp-schema for the entities we define.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type QDict, type QObject, qdict, qobjectEqual } from '../../engine/qobject/qobject.js';
import { QapiError } from '../../engine/qapi/error.js';
import { QObjectInputVisitor } from '../../engine/qapi/visitors/qobject-input-visitor.js';
import { QObjectOutputVisitor } from '../../engine/qapi/visitors/qobject-output-visitor.js';
import { CloneVisitor } from '../../engine/qapi/visitors/clone-visitor.js';
import type { Visitor } from '../../engine/qapi/visitor.js';
import * as V from '../../engine/qapi/generated/qapi-visit.js';
import { RunState_lookup, SysEmuTarget_lookup } from '../../engine/qapi/generated/qapi-types.js';
import { type QmpCommandHandlers, qmpCommandTable } from '../../engine/qapi/generated/qapi-commands.js';
import { QapiEvents, qapiEventNames } from '../../engine/qapi/generated/qapi-events.js';
import { qmpSchemaInfo } from '../../engine/qapi/generated/qapi-introspect.js';
import { QmpClientApi, type QmpTransport } from '../../main/generated/qmp-client.js';
import type { CommandContext } from '../../engine/qapi/qmp-types.js';
import { referencePath } from '../helpers/reference.js';

/** Deep-convert plain JS literals to QObjects (null-prototype dicts). */
function q(v: unknown): QObject {
  if (Array.isArray(v)) return v.map(q);
  if (v !== null && typeof v === 'object') {
    const d = qdict();
    for (const [k, x] of Object.entries(v)) d[k] = q(x);
    return d;
  }
  return v as QObject;
}

/** input-visit a QObject, output-visit the result, and clone it: all three must agree. */
function roundTrip<X>(
  visit: (v: Visitor, name: string | null, obj?: X) => X,
  input: QObject,
): { value: X; output: QObject } {
  const value = visit(new QObjectInputVisitor(input), null);
  const ov = new QObjectOutputVisitor();
  visit(ov, null, value);
  const output = ov.result();
  const copy = visit(new CloneVisitor(), null, value);
  expect(copy).toEqual(value);
  if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
  return { value, output };
}

const ctx: CommandContext = { monitor: null, oob: false };

describe('generated visitors', () => {
  it('round-trip a flat union with a base, optional members and a list of uint16', () => {
    const input = q({
      'qom-type': 'memory-backend-ram',
      id: 'ram0',
      size: 268435456,
      'host-nodes': [0, 1],
      policy: 'bind',
    });
    const { value, output } = roundTrip(V.visit_type_ObjectOptions, input);
    expect(value['qom-type']).toBe('memory-backend-ram');
    if (value['qom-type'] === 'memory-backend-ram') expect(value.size).toBe(268435456);
    expect(qobjectEqual(output, input)).toBe(true);
    // Output follows schema order (base, then branch members in declaration order), not input order.
    expect(Object.keys(output as QDict)).toEqual(['qom-type', 'id', 'host-nodes', 'policy', 'size']);
  });

  it('visits a union branch with a base type (rng-random) and a union list with q_empty branches', () => {
    const rng = roundTrip(
      V.visit_type_ObjectOptions,
      q({ 'qom-type': 'rng-random', id: 'r', filename: '/dev/hwrng' }),
    );
    expect(rng.value).toEqual({ 'qom-type': 'rng-random', id: 'r', filename: '/dev/hwrng' });
    const cpus = q([
      {
        'cpu-index': 0,
        'qom-path': '/machine/soc0/harts[0]',
        'thread-id': 1234,
        target: 'riscv64',
        props: { 'core-id': 0, 'node-id': 0 },
      },
      { 'cpu-index': 1, 'qom-path': '/machine/x', 'thread-id': 5, target: 's390x', 'cpu-state': 'operating' },
    ]);
    const { value, output } = roundTrip(V.visit_type_CpuInfoFastList, cpus);
    expect(value).toHaveLength(2);
    expect(qobjectEqual(output, cpus)).toBe(true);
  });

  it('rejects what QEMU rejects, with QEMU texts', () => {
    const parse = (x: unknown): unknown => V.visit_type_ObjectOptions(new QObjectInputVisitor(q(x)), null);
    expect(() => parse({ 'qom-type': 'secret', id: 's', bogus: 1 })).toThrow(
      "Parameter 'bogus' is unexpected",
    );
    expect(() => parse({ 'qom-type': 'secret' })).toThrow("Parameter 'id' is missing");
    expect(() => parse({ 'qom-type': 'nope', id: 'x' })).toThrow(
      "Parameter 'qom-type' does not accept value 'nope'",
    );
    expect(() => parse({ 'qom-type': 'memory-backend-ram', id: 'm' })).toThrow("Parameter 'size' is missing");
    expect(() =>
      parse({ 'qom-type': 'memory-backend-ram', id: 'm', size: 1, 'host-nodes': [70000] }),
    ).toThrow(/uint16/);
  });

  it('refuses 64-bit values that a JS number cannot hold instead of rounding them', () => {
    const input = q({ 'qom-type': 'memory-backend-ram', id: 'm', size: 2n ** 60n + 1n });
    expect(() => V.visit_type_ObjectOptions(new QObjectInputVisitor(input), null)).toThrow(QapiError);
    expect(() => V.visit_type_ObjectOptions(new QObjectInputVisitor(input), null)).toThrow(/'size'/);
    const ok = V.visit_type_ObjectOptions(
      new QObjectInputVisitor(q({ 'qom-type': 'memory-backend-ram', id: 'm', size: 2 ** 53 - 1 })),
      null,
    );
    expect(ok['qom-type'] === 'memory-backend-ram' && ok.size).toBe(2 ** 53 - 1);
  });

  it('chooses alternate branches by the value type', () => {
    expect(roundTrip(V.visit_type_StrOrNull, 'abc').value).toBe('abc');
    expect(roundTrip(V.visit_type_StrOrNull, null).value).toBe(null);
    expect(() => V.visit_type_StrOrNull(new QObjectInputVisitor(q({ x: 1 })), null)).toThrow(
      "Invalid parameter type for 'null', expected: StrOrNull",
    );
  });

  it('applies the deprecated-input policy to deprecated members', () => {
    const input = q({ 'qom-type': 'rng-builtin', id: 'r', opened: false });
    expect(roundTrip(V.visit_type_ObjectOptions, input).value).toEqual({
      'qom-type': 'rng-builtin',
      id: 'r',
      opened: false,
    });
    const strict = new QObjectInputVisitor(input, { deprecatedInput: 'reject' });
    expect(() => V.visit_type_ObjectOptions(strict, null)).toThrow(/opened/);
  });

  it('exports enum lookup tables in schema order', () => {
    expect(RunState_lookup[0]).toBe('debug');
    expect(RunState_lookup).toContain('prelaunch');
    expect(SysEmuTarget_lookup.indexOf('riscv64')).toBe(SysEmuTarget_lookup.indexOf('riscv32') + 1);
  });
});

/**
 * Handlers that record calls; the commands listed answer with something typed, any command added to
 * the schema later answers {} and logs its method name.
 */
function handlers(log: string[]): QmpCommandHandlers {
  const known: Partial<QmpCommandHandlers> = {
    queryStatus: () => ({ running: false, singlestep: false, status: 'prelaunch' }),
    qmpCapabilities: (a) => void log.push(`caps ${JSON.stringify(a.enable ?? null)}`),
    queryVersion: async () => ({ qemu: { major: 7, minor: 2, micro: 0 }, package: '' }),
    queryCommands: () => [{ name: 'query-status' }],
    quit: () => void log.push('quit'),
    queryQmpSchema: () => qmpSchemaInfo,
    qomList: (a) => [{ name: 'type', type: 'string', description: a.path }],
    qomGet: (a) => `${a.path}.${a.property}`,
    qomSet: (a) => void log.push(`set ${a.property}=${JSON.stringify(a.value)}`),
    qomListTypes: (a) => [{ name: 'x', ...(a.abstract !== undefined ? { abstract: a.abstract } : {}) }],
    qomListProperties: () => [],
    objectAdd: (a) => void log.push(`object-add ${a['qom-type']} ${a.id}`),
    objectDel: (a) => void log.push(`object-del ${a.id}`),
    queryCpusFast: () => [
      { 'cpu-index': 0, 'qom-path': '/machine/soc0/harts[0]', 'thread-id': 1, target: 'riscv64' },
    ],
    queryMachines: () => [],
    queryTarget: () => ({ arch: 'riscv64' }),
    queryUuid: () => ({ UUID: '00000000-0000-0000-0000-000000000000' }),
    systemReset: () => void log.push('reset'),
    queryKvm: () => ({ enabled: false, present: false }),
    deviceListProperties: () => [],
    deviceAdd: (a) => void log.push(`device_add ${Object.keys(a).join(',')}`),
    deviceDel: (a) => void log.push(`device_del ${a.id}`),
    queryName: () => ({}),
    stop: () => void log.push('stop'),
    cont: () => void log.push('cont'),
    humanMonitorCommand: (a) => `ran ${a['command-line']}`,
  };
  return new Proxy(known, {
    get: (target, key: string) =>
      (target as Record<string, unknown>)[key] ??
      (() => {
        log.push(`other ${key}`);
        return {};
      }),
  }) as QmpCommandHandlers;
}

describe('generated command table', () => {
  const log: string[] = [];
  const table = qmpCommandTable(handlers(log));
  const run = (name: string, args: unknown = {}): QObject | Promise<QObject> =>
    table.get(name)!.fn(q(args) as QDict, ctx);

  it('lists every command with its flags and features', () => {
    expect(table.get('query-status')!.options).toEqual({
      allowOob: false,
      allowPreconfig: true,
      coroutine: false,
    });
    expect(table.get('device_add')!.features).toEqual(['json-cli', 'json-cli-hotplug']);
    expect(table.get('stop')!.options.allowPreconfig).toBe(false);
    expect([...table.values()].every((c) => c.enabled)).toBe(true);
    expect(table.size).toBe((qmpSchemaInfo as QDict[]).filter((e) => e['meta-type'] === 'command').length);
  });

  it('marshals results and answers {} for commands without returns', async () => {
    expect(run('query-status')).toEqual(q({ running: false, singlestep: false, status: 'prelaunch' }));
    expect(await run('query-version')).toEqual(q({ qemu: { major: 7, minor: 2, micro: 0 }, package: '' }));
    expect(run('stop')).toEqual(qdict());
    expect(run('qom-get', { path: '/machine', property: 'type' })).toBe('/machine.type');
    expect(run('human-monitor-command', { 'command-line': 'info status' })).toBe('ran info status');
    expect(run('qom-list-types', { abstract: true })).toEqual(q([{ name: 'x', abstract: true }]));
    expect(log).toContain('stop');
  });

  it('checks arguments like qmp_marshal_*()', () => {
    expect(() => run('stop', { x: 1 })).toThrow("Parameter 'x' is unexpected");
    expect(() => run('qom-get', { path: '/' })).toThrow("Parameter 'property' is missing");
    expect(() => run('qom-get', { path: 1, property: 'x' })).toThrow(
      "Invalid parameter type for 'path', expected: string",
    );
    expect(() => run('qmp_capabilities', { enable: ['oob', 'nope'] })).toThrow(
      "Parameter 'null' does not accept value 'nope'",
    );
    run('qmp_capabilities', { enable: ['oob'] });
    expect(log).toContain('caps ["oob"]');
  });

  it('passes boxed and gen:false arguments through', () => {
    run('object-add', { 'qom-type': 'secret', id: 'sec0', data: 'x' });
    expect(log).toContain('object-add secret sec0');
    run('device_add', { driver: 'virtio-rng-device', id: 'rng0', 'max-bytes': 1 });
    expect(log).toContain('device_add driver,id,max-bytes');
    expect(run('query-qmp-schema')).toBe(qmpSchemaInfo);
  });
});

describe('generated events', () => {
  it('emit typed data, and no data for empty events', () => {
    const got: [string, QDict | undefined][] = [];
    const ev = new QapiEvents((name, data) => got.push([name, data]));
    ev.deviceDeleted({ path: '/machine/peripheral/rng0', device: 'rng0' });
    ev.stop();
    ev.reset({ guest: false, reason: 'host-qmp-system-reset' });
    expect(got[0]).toEqual(['DEVICE_DELETED', q({ device: 'rng0', path: '/machine/peripheral/rng0' })]);
    expect(got[1]).toEqual(['STOP', undefined]);
    expect(got[2]![1]).toEqual(q({ guest: false, reason: 'host-qmp-system-reset' }));
    expect(qapiEventNames).toEqual([
      'SHUTDOWN',
      'POWERDOWN',
      'RESET',
      'STOP',
      'RESUME',
      'VSERPORT_CHANGE',
      'DEVICE_DELETED',
      'JOB_STATUS_CHANGE',
      'MIGRATION',
    ]);
  });
});

describe('generated client', () => {
  it('sends the wire names and arguments', async () => {
    const sent: [string, QDict | undefined][] = [];
    const transport: QmpTransport = {
      execute: async (cmd, args) => {
        sent.push([cmd, args]);
        return q(cmd === 'query-status' ? { running: true, singlestep: false, status: 'running' } : {});
      },
    };
    const api = new QmpClientApi(transport);
    const st = await api.queryStatus();
    expect(st.status).toBe('running');
    await api.qomSet({ path: '/machine', property: 'x', value: 1 });
    await api.qmpCapabilities();
    await api.deviceAdd({ driver: 'virtio-rng-device', id: 'r0', 'max-bytes': 1024 });
    await api.call('system_reset');
    expect(sent.map((s) => s[0])).toEqual([
      'query-status',
      'qom-set',
      'qmp_capabilities',
      'device_add',
      'system_reset',
    ]);
    expect(sent[1]![1]).toEqual({ path: '/machine', property: 'x', value: 1 });
    expect(sent[2]![1]).toEqual({});
  });
});

describe('introspection (query-qmp-schema)', () => {
  type Info = { [k: string]: unknown };
  const ours = qmpSchemaInfo as unknown as Info[];
  const ref = JSON.parse(readFileSync(referencePath('query-qmp-schema.json'), 'utf8')) as Info[];
  const index = (list: Info[]): Map<string, Info> => new Map(list.map((e) => [e.name as string, e]));
  const oi = index(ours);
  const ri = index(ref);

  /** Replace masked type names by the structure they stand for (names are not part of the ABI). */
  function resolve(idx: Map<string, Info>, name: string, seen: string[] = []): unknown {
    const e = idx.get(name);
    if (!e) return `?${name}`;
    if (e['meta-type'] === 'builtin') return name;
    // A type that contains itself (ImageInfo's backing-image): its masked number differs between
    // schemas, the structure around it is what counts.
    if (seen.includes(name)) return '<recursive>';
    const out: Info = {};
    for (const [k, v] of Object.entries(e)) {
      if (k === 'name' && e['meta-type'] !== 'command' && e['meta-type'] !== 'event') continue;
      if (['arg-type', 'ret-type', 'element-type'].includes(k))
        out[k] = resolve(idx, v as string, [...seen, name]);
      else if (k === 'members' || k === 'variants') {
        out[k] = (v as Info[]).map((m) =>
          m.type ? { ...m, type: resolve(idx, m.type as string, [...seen, name]) } : { ...m },
        );
      } else out[k] = v;
    }
    return out;
  }

  /** A copy with enum value `value` removed from every enum (members and values lists). */
  function withoutEnumValue(v: unknown, value: string): unknown {
    if (Array.isArray(v)) {
      return v
        .filter(
          (x) =>
            x !== value &&
            !(
              typeof x === 'object' &&
              x !== null &&
              (x as Info).name === value &&
              Object.keys(x).length === 1
            ),
        )
        .map((x) => withoutEnumValue(x, value));
    }
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutEnumValue(x, value)]));
    }
    return v;
  }

  const entities = ours.filter((e) => e['meta-type'] === 'command' || e['meta-type'] === 'event');

  it('defines every command and event the engine needs', () => {
    const names = entities.map((e) => e.name);
    for (const n of [
      'qmp_capabilities',
      'query-qmp-schema',
      'qom-list',
      'device_add',
      'object-add',
      'query-cpus-fast',
      'RESET',
      'DEVICE_DELETED',
    ]) {
      expect(names).toContain(n);
    }
  });

  for (const e of entities) {
    const name = e.name as string;
    it(`${name} matches QEMU 7.2`, () => {
      expect(ri.has(name)).toBe(true);
      const mine = resolve(oi, name) as Info;
      const theirs = resolve(ri, name) as Info;
      // Same keys in the same (QEMU hash) order at the top level.
      expect(Object.keys(e)).toEqual(Object.keys(ri.get(name)!));
      if (name === 'query-stats' || name === 'query-stats-schemas') {
        // Our documented extension: StatsProvider has 'tcg' (QEMU 7.2 has only 'kvm').
        expect(withoutEnumValue(mine, 'tcg')).toEqual(theirs);
        return;
      }
      if (name === 'chardev-add') {
        // ChardevBackend: the backends we implement, a subsequence of QEMU's, each as QEMU's.
        const [aId, aBackend] = (mine['arg-type'] as Info).members as Info[];
        const [bId, bBackend] = (theirs['arg-type'] as Info).members as Info[];
        expect(aId).toEqual(bId);
        expect(mine['ret-type']).toEqual(theirs['ret-type']);
        const a = aBackend!.type as Info;
        const b = bBackend!.type as Info;
        const ourKinds = ((a.members as Info[])[0]!.type as Info).values as string[];
        const refKinds = ((b.members as Info[])[0]!.type as Info).values as string[];
        const positions = ourKinds.map((x) => refKinds.indexOf(x));
        expect(positions.every((p) => p >= 0)).toBe(true);
        expect(positions).toEqual([...positions].sort((x, y) => x - y));
        expect((a.variants as Info[]).map((v) => v.case)).toEqual(ourKinds);
        const refCases = new Map((b.variants as Info[]).map((v) => [v.case, v.type]));
        for (const v of a.variants as Info[]) expect(v.type).toEqual(refCases.get(v.case));
        return;
      }
      if (name !== 'object-add' && name !== 'blockdev-add') {
        expect(mine).toEqual(theirs);
        return;
      }
      // ObjectOptions / BlockdevOptions: we implement a subset of QEMU's object types and block
      // drivers; each one we have must match QEMU's.
      const a = mine['arg-type'] as Info;
      const b = theirs['arg-type'] as Info;
      expect(a.tag).toBe(b.tag);
      const [aTag, ...aRest] = a.members as Info[];
      const [bTag, ...bRest] = b.members as Info[];
      expect(aRest).toEqual(bRest);
      // The tag enum ObjectType lists our object types, a subsequence of QEMU's.
      const ourValues = (aTag!.type as Info).values as string[];
      const refValues = (bTag!.type as Info).values as string[];
      const positions = ourValues.map((x) => refValues.indexOf(x));
      expect(positions).toEqual([...positions].sort((x, y) => x - y));
      expect(positions.every((p) => p >= 0)).toBe(true);
      const refCases = new Map((b.variants as Info[]).map((v) => [v.case, v.type]));
      for (const v of a.variants as Info[]) expect(v.type).toEqual(refCases.get(v.case));
    });
  }

  it('masks type names with numbers in order of first use, like QEMU', () => {
    const masked = ours.filter((e) => /^[0-9]+$/.test(e.name as string)).map((e) => Number(e.name));
    expect(masked).toEqual(masked.map((_, i) => i));
    expect(ours[0]).toEqual(
      q({ name: 'query-status', 'ret-type': '1', 'meta-type': 'command', 'arg-type': '0' }),
    );
    expect(oi.get('0')).toEqual(q({ name: '0', members: [], 'meta-type': 'object' }));
    expect(oi.get('[int]')).toEqual(q({ name: '[int]', 'element-type': 'int', 'meta-type': 'array' }));
    // Every dictionary uses QEMU's key order; members carry "default": null when optional.
    for (const entry of ours) {
      const r = [...ri.values()].find(
        (x) =>
          x['meta-type'] === entry['meta-type'] &&
          Object.keys(x).length === Object.keys(entry).length &&
          Object.keys(x).every((k) => k in entry),
      );
      if (r) expect(Object.keys(entry)).toEqual(Object.keys(r));
    }
  });
});
