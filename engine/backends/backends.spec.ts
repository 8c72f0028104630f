import { describe, it, expect, beforeEach } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCipheriv, randomBytes } from 'node:crypto';
import './index.js';
import { qdict } from '../qobject/qobject.js';
import {
  objectResolvePath,
  objectPropertyGetQobject,
  objectPropertySetQobject,
  qomResetRoot,
} from '../qom/object.js';
import {
  userCreatableAddDict,
  userCreatableDel,
  userCreatableHelp,
  typePrintClassProperties,
  userCreatablePrintTypes,
  qmpObjectAdd,
} from '../qom/object-interfaces.js';
import { rngBackendRequestEntropy, type RngBackend } from './rng.js';
import { hostMemoryBackendGetMemory, hostMemoryBackendSetMapped, type HostMemoryBackend } from './hostmem.js';
import { qcryptoSecretLookupAsUtf8, qcryptoSecretLookup } from './secret.js';
import { qmpQomListProperties } from '../qom/qom-qmp-cmds.js';

beforeEach(() => qomResetRoot());

const add = (d: Record<string, string | number | boolean>, keyval = false) =>
  userCreatableAddDict(qdict(d), keyval);
const entropy = (b: RngBackend, n: number) =>
  new Promise<Uint8Array>((res) => rngBackendRequestEntropy(b, n, res));

describe('object-add / object-del', () => {
  it('adds objects under /objects and deletes them', () => {
    add({ 'qom-type': 'rng-builtin', id: 'rng0' });
    const o = objectResolvePath('/objects/rng0')!;
    expect(o.class.type.name).toBe('rng-builtin');
    expect(objectPropertyGetQobject(o, 'opened')).toBe(true);
    userCreatableDel('rng0');
    expect(objectResolvePath('/objects/rng0')).toBeNull();
    expect(o.finalized).toBe(true);
    expect(() => userCreatableDel('rng0')).toThrow("object 'rng0' not found");
  });

  it('reports QEMU errors for bad types, ids and duplicates', () => {
    expect(() => add({ 'qom-type': 'nope', id: 'x' })).toThrow('invalid object type: nope');
    expect(() => add({ 'qom-type': 'container', id: 'x' })).toThrow(
      "object type 'container' isn't supported by object-add",
    );
    expect(() => add({ 'qom-type': 'rng-backend', id: 'x' })).toThrow(
      "object type 'rng-backend' is abstract",
    );
    expect(() => add({ 'qom-type': 'rng-builtin', id: '1abc' })).toThrow(
      "Parameter 'id' expects an identifier",
    );
    expect(() => add({ 'qom-type': 'rng-builtin' })).toThrow("Parameter 'id' is missing");
    add({ 'qom-type': 'rng-builtin', id: 'r' });
    expect(() => add({ 'qom-type': 'rng-builtin', id: 'r' })).toThrow(
      "attempt to add duplicate property 'r' to object (type 'container')",
    );
    expect(() => add({ 'qom-type': 'rng-builtin', id: 'q', bogus: 1 })).toThrow(
      "Property 'rng-builtin.bogus' not found",
    );
    expect(() => add({ 'qom-type': 'rng-random', id: 'q', filename: 5 })).toThrow(
      "Invalid parameter type for 'filename', expected: string",
    );
    // a failed add leaves nothing behind
    expect(objectResolvePath('/objects/q')).toBeNull();
  });

  it('keeps an in-use backend from being deleted', () => {
    add({ 'qom-type': 'memory-backend-ram', id: 'mem', size: 65536 });
    const m = objectResolvePath('/objects/mem') as HostMemoryBackend;
    hostMemoryBackendSetMapped(m, true);
    expect(() => userCreatableDel('mem')).toThrow("object 'mem' is in use, can not be deleted");
    hostMemoryBackendSetMapped(m, false);
    userCreatableDel('mem');
  });

  it('prints -object help', () => {
    add({ 'qom-type': 'rng-builtin', id: 'r' });
    const list = userCreatablePrintTypes();
    expect(list.startsWith('List of user creatable objects:\n')).toBe(true);
    expect(list).toContain('  memory-backend-ram\n  rng-builtin\n  rng-random\n  secret\n');
    expect(list).not.toContain('rng-backend');
    expect(userCreatableHelp(qdict({ 'qom-type': 'help' }), false)).toBe(list);
    expect(userCreatableHelp(qdict({ 'qom-type': 'rng-builtin' }), false)).toBeNull();
    const props = typePrintClassProperties('memory-backend-ram')!;
    expect(props).toContain('memory-backend-ram options:\n');
    expect(props).toContain('  size=<int>             - Size of the memory region (ex: 500M)\n');
    expect(props).toContain('  policy=<HostMemPolicy> - Set the NUMA policy\n');
    expect(props).toContain('  x-use-canonical-path-for-ramblock-id=<bool>\n');
    expect(props).not.toContain('type=');
    expect(typePrintClassProperties('rng-builtin')).toBe('rng-builtin options:\n  opened=<bool>\n');
  });
});

describe('rng backends', () => {
  it('rng-builtin delivers the requested amount asynchronously', async () => {
    add({ 'qom-type': 'rng-builtin', id: 'r' });
    const r = objectResolvePath('/objects/r') as RngBackend;
    const data = await entropy(r, 64);
    expect(data.length).toBe(64);
    expect(data.some((b) => b !== 0)).toBe(true);
    expect(r.requests.length).toBe(0);
  });

  it('rng-random reads its file, defaults to /dev/urandom, freezes filename after open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rng-'));
    const f = join(dir, 'pool');
    writeFileSync(f, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    add({ 'qom-type': 'rng-random', id: 'r', filename: f });
    const r = objectResolvePath('/objects/r') as RngBackend;
    expect(Array.from(await entropy(r, 4))).toEqual([1, 2, 3, 4]);
    expect(() => objectPropertySetQobject(r, 'filename', '/dev/zero')).toThrow(
      'Insufficient permission to perform this operation',
    );
    expect(() => objectPropertySetQobject(r, 'opened', false)).toThrow(
      'Insufficient permission to perform this operation',
    );
    add({ 'qom-type': 'rng-random', id: 'd' });
    expect(objectPropertyGetQobject(objectResolvePath('/objects/d')!, 'filename')).toBe('/dev/urandom');
    expect(() => add({ 'qom-type': 'rng-random', id: 'bad', filename: join(dir, 'missing') })).toThrow(
      `Could not open '${join(dir, 'missing')}': No such file or directory`,
    );
  });
});

describe('memory-backend-ram', () => {
  it('allocates on complete with QEMU property semantics', () => {
    add({ 'qom-type': 'memory-backend-ram', id: 'ram0', size: '1M', share: 'on' }, true);
    const m = objectResolvePath('/objects/ram0') as HostMemoryBackend;
    const mr = hostMemoryBackendGetMemory(m)!;
    expect(mr.name).toBe('ram0');
    expect(mr.size).toBe(1048576n);
    expect(mr.data.byteLength).toBe(1048576);
    expect(mr.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(objectPropertyGetQobject(m, 'size')).toBe(1048576);
    expect(() => objectPropertySetQobject(m, 'size', 4096)).toThrow(
      'cannot change property size of memory-backend-ram ',
    );
    expect(() => objectPropertySetQobject(m, 'share', false)).toThrow('cannot change property value');
    objectPropertySetQobject(m, 'dump', false);
    expect(m.dump).toBe(false);
  });

  it('validates size and NUMA policy', () => {
    expect(() => add({ 'qom-type': 'memory-backend-ram', id: 'a' })).toThrow(
      "can't create backend with size 0",
    );
    expect(() => add({ 'qom-type': 'memory-backend-ram', id: 'a', size: 0 })).toThrow(
      "property 'size' of memory-backend-ram doesn't take value '0'",
    );
    expect(() => add({ 'qom-type': 'memory-backend-ram', id: 'a', size: 4096, policy: 'bind' })).toThrow(
      'host-nodes must be set for policy bind',
    );
    expect(() => add({ 'qom-type': 'memory-backend-ram', id: 'a', size: 4096, policy: 'fast' })).toThrow(
      "Parameter 'policy' does not accept value 'fast'",
    );
    qmpObjectAdd({
      'qom-type': 'memory-backend-ram',
      id: 'b',
      size: 4096,
      policy: 'bind',
      'host-nodes': [0, 1],
    });
    expect(objectPropertyGetQobject(objectResolvePath('/objects/b')!, 'host-nodes')).toEqual([0, 1]);
  });

  it('lists class properties of the abstract base with descriptions', () => {
    const props = qmpQomListProperties({ typename: 'memory-backend' });
    expect(props.find((p) => p.name === 'merge')).toEqual({
      name: 'merge',
      type: 'bool',
      description: 'Mark memory as mergeable',
    });
    expect(props.find((p) => p.name === 'prealloc-context')?.type).toBe('link<thread-context>');
  });
});

describe('secret', () => {
  it('loads data, base64 and files; rejects bad combinations', () => {
    add({ 'qom-type': 'secret', id: 's1', data: 'letmein' });
    expect(qcryptoSecretLookupAsUtf8('s1')).toBe('letmein');
    add({ 'qom-type': 'secret', id: 's2', data: Buffer.from('hidden').toString('base64'), format: 'base64' });
    expect(qcryptoSecretLookupAsUtf8('s2')).toBe('hidden');
    const dir = mkdtempSync(join(tmpdir(), 'sec-'));
    writeFileSync(join(dir, 'pw'), 'fromfile');
    add({ 'qom-type': 'secret', id: 's3', file: join(dir, 'pw') });
    expect(qcryptoSecretLookupAsUtf8('s3')).toBe('fromfile');
    expect(() => add({ 'qom-type': 'secret', id: 'x' })).toThrow("Either 'file' or 'data' must be provided");
    expect(() => add({ 'qom-type': 'secret', id: 'x', data: 'a', file: 'b' })).toThrow(
      "'data' and 'file' are mutually exclusive",
    );
    expect(() => add({ 'qom-type': 'secret', id: 'x', data: '!!', format: 'base64' })).toThrow(
      'Base64 data contains invalid characters',
    );
    expect(() => qcryptoSecretLookup('nope')).toThrow("No secret with id 'nope'");
    add({ 'qom-type': 'rng-builtin', id: 'r' });
    expect(() => qcryptoSecretLookup('r')).toThrow("Object with id 'r' is not a secret");
    expect(() => objectPropertySetQobject(objectResolvePath('/objects/s1')!, 'loaded', false)).toThrow(
      'Cannot unload secret',
    );
  });

  it('decrypts AES-256-CBC secrets keyed by another secret', () => {
    const key = randomBytes(32);
    const iv = randomBytes(16);
    const c = createCipheriv('aes-256-cbc', key, iv);
    const ct = Buffer.concat([c.update('top secret'), c.final()]);
    add({ 'qom-type': 'secret', id: 'master', data: key.toString('base64'), format: 'base64' });
    add({
      'qom-type': 'secret',
      id: 'enc',
      data: ct.toString('base64'),
      format: 'base64',
      keyid: 'master',
      iv: iv.toString('base64'),
    });
    expect(qcryptoSecretLookupAsUtf8('enc')).toBe('top secret');
    expect(() =>
      add({ 'qom-type': 'secret', id: 'e2', data: ct.toString('base64'), format: 'base64', keyid: 'master' }),
    ).toThrow('IV is required to decrypt secret');
  });
});
