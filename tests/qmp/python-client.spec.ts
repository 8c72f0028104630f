/**
 * Issue 2's acceptance test: a plain QMP client in Python's standard library (tests/qmp/
 * qmp_stdlib_client.py) negotiates, walks the QOM tree, reads and sets properties, lists types and
 * device properties, adds and deletes objects and devices and receives events from the real engine.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startEngine, REPO, type EngineProcess } from '../helpers/engine-process.js';

type Step = { step: string; reply: any };

function runPython(socket: string): Promise<Step[]> {
  return new Promise((res, rej) => {
    execFile(
      'python3',
      [join(REPO, 'tests/qmp/qmp_stdlib_client.py'), socket],
      { timeout: 20000 },
      (err, stdout, stderr) => {
        if (err) return rej(new Error(`${err.message}\n${stderr}\n${stdout}`));
        res(
          stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as Step),
        );
      },
    );
  });
}

describe('QMP from a Python standard-library client', () => {
  let engine: EngineProcess;
  let steps: Map<string, any>;

  beforeAll(async () => {
    engine = await startEngine(['-M', 'none', '-device', 'vmstudio-test-bridge,id=br0,unplug-delay-ms=20']);
    const list = await runPython(engine.qmpPath);
    steps = new Map(list.map((s) => [s.step, s.reply]));
  }, 30000);

  afterAll(async () => {
    await engine?.kill();
  });

  it('greets and enforces capability negotiation as QEMU does', () => {
    expect(steps.get('greeting').QMP.capabilities).toEqual(['oob']);
    expect(steps.get('greeting').QMP.version.qemu).toMatchObject({ major: 7, minor: 2 });
    expect(steps.get('before-negotiation').error).toEqual({
      class: 'CommandNotFound',
      desc: "Expecting capabilities negotiation with 'qmp_capabilities'",
    });
    expect(steps.get('qmp_capabilities')).toEqual({ return: {}, id: 'qmp_capabilities' });
    expect(steps.get('query-status').return).toEqual({ status: 'running', singlestep: false, running: true });
  });

  it('walks the composition tree with qom-list', () => {
    const tree: string[] = steps.get('tree');
    for (const p of [
      '/machine',
      '/machine/peripheral',
      '/machine/peripheral/br0',
      '/machine/unattached/sysbus',
    ]) {
      expect(tree).toContain(p);
    }
    expect(steps.get('qom-get-type').return).toBe('none-machine');
  });

  it('lists types and device properties', () => {
    const types: Array<{ name: string }> = steps.get('qom-list-types').return;
    expect(types.map((t) => t.name)).toContain('vmstudio-test-device');
    expect(types.map((t) => t.name)).not.toContain('device');
    const props: Array<{ name: string; type: string }> = steps.get('device-list-properties').return;
    expect(props.find((p) => p.name === 'u32')).toMatchObject({ type: 'uint32' });
  });

  it('adds, reads and deletes user-creatable objects', () => {
    expect(steps.get('object-add').return).toEqual({});
    expect(steps.get('object-add-dup').error.class).toBe('GenericError');
    expect(steps.get('object-add-dup').error.desc).toMatch(/duplicate property 'rng0'/);
    expect(steps.get('qom-get-filename').return).toBe('/dev/urandom');
    expect(steps.get('object-del').return).toEqual({});
  });

  it('hot-plugs a device, sets its properties and unplugs it with DEVICE_DELETED', () => {
    expect(steps.get('device_add').return).toEqual({});
    expect(steps.get('qom-set').return).toEqual({});
    expect(steps.get('qom-get-doorbell').return).toBe(4242);
    expect(steps.get('qom-set-static').error).toEqual({
      class: 'GenericError',
      desc: "Attempt to set property 'u32' on device 'dev0' (type 'vmstudio-test-device') after it was realized",
    });
    expect(steps.get('qom-set-bad').error).toEqual({
      class: 'GenericError',
      desc: "Parameter 'doorbell' expects uint64",
    });
    expect(steps.get('device_add-bad').error).toEqual({
      class: 'GenericError',
      desc: "'no-such-device' is not a valid device model name",
    });
    expect(steps.get('device_del').return).toEqual({});
    expect(steps.get('DEVICE_DELETED').data).toEqual({ device: 'dev0', path: '/machine/peripheral/dev0' });
    expect(steps.get('device_del-gone').error).toEqual({
      class: 'DeviceNotFound',
      desc: "Device 'dev0' not found",
    });
  });

  it('reports unknown commands and run-state changes', () => {
    expect(steps.get('unknown').error).toEqual({
      class: 'CommandNotFound',
      desc: 'The command no-such-command has not been found',
    });
    expect(steps.get('STOP').timestamp).toHaveProperty('microseconds');
    expect(steps.get('SHUTDOWN').data).toEqual({ guest: false, reason: 'host-qmp-quit' });
  });
});
