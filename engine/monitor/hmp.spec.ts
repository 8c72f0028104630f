import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { qmpHumanMonitorCommand, registerHmpCommand, registerHmpInfo } from './hmp.js';
import { runstateResetForTests, runstateSet, setRunStateEventHook, vmStart } from '../system/runstate.js';
import { referencePath } from '../../tests/helpers/reference.js';

afterEach(() => runstateResetForTests());

const REF = referencePath('hmp-info-help.txt');

describe('human-monitor-command', () => {
  it('reports the VM status as QEMU does', async () => {
    setRunStateEventHook(() => undefined);
    expect(await qmpHumanMonitorCommand('info status')).toBe('VM status: paused (prelaunch)\r\n');
    vmStart();
    expect(await qmpHumanMonitorCommand('info status')).toBe('VM status: running\r\n');
    runstateSet('paused');
    expect(await qmpHumanMonitorCommand('  info   status  ')).toBe('VM status: paused\r\n');
  });

  it('names unknown commands and sub-commands with QEMU texts', async () => {
    expect(await qmpHumanMonitorCommand('foo')).toBe("unknown command: 'foo'\r\n");
    expect(await qmpHumanMonitorCommand('foo bar baz')).toBe("unknown command: 'foo'\r\n");
    expect(await qmpHumanMonitorCommand('info bogus')).toBe("unknown command: 'info bogus'\r\n");
    expect(await qmpHumanMonitorCommand('help nothing')).toBe("unknown command: 'nothing'\r\n");
    expect(await qmpHumanMonitorCommand('info status extra')).toBe(
      'status: extraneous characters at the end of line\r\nTry "help info status" for more information\r\n',
    );
    expect(await qmpHumanMonitorCommand('')).toBe('');
  });

  it('lists info sub-commands in the reference format', async () => {
    registerHmpInfo('chardev', 'show the character devices', () => 'x\n');
    const text = await qmpHumanMonitorCommand('help info');
    expect(text).toContain('info chardev  -- show the character devices\r\n');
    expect(text).toContain('info status  -- show the current VM status (running|paused)\r\n');
    expect(await qmpHumanMonitorCommand('info')).toBe(text);
    if (fs.existsSync(REF)) {
      const ref = fs.readFileSync(REF, 'utf8');
      for (const line of text
        .split('\r\n')
        .filter((l) => l.startsWith('info status') || l.startsWith('info chardev'))) {
        expect(ref).toContain(`${line}\r\n`);
      }
    }
    expect(await qmpHumanMonitorCommand('info chardev')).toBe('x\r\n');
  });

  it('prints handler errors as "Error: ..." and validates cpu-index', async () => {
    registerHmpCommand({
      name: 'savevm',
      params: '[tag|id]',
      help: 'save a VM snapshot',
      takesArgs: true,
      handler: (a) => {
        throw new Error(`Device 'hd0' is writable but does not support snapshots (${a})`);
      },
    });
    expect(await qmpHumanMonitorCommand('savevm s1')).toBe(
      "Error: Device 'hd0' is writable but does not support snapshots (s1)\r\n",
    );
    await expect(qmpHumanMonitorCommand('info status', 5)).rejects.toThrow(
      "Parameter 'cpu-index' expects a CPU number",
    );
  });

  it('runs stop/cont', async () => {
    const evs: string[] = [];
    setRunStateEventHook((e) => evs.push(e));
    expect(await qmpHumanMonitorCommand('c')).toBe('');
    expect(await qmpHumanMonitorCommand('stop')).toBe('');
    expect(evs).toEqual(['RESUME', 'STOP']);
    expect(await qmpHumanMonitorCommand('info status')).toBe('VM status: paused\r\n');
  });
});
