import { describe, expect, it } from 'vitest';
import type { VmConfig } from './contract.js';
import { checkChardev, checkNewVm, checkPatch } from './validate.js';

const current = { chardevs: [], devices: [] } as unknown as VmConfig;

describe('host channels (chardevs) in the configuration', () => {
  it("accepts -chardev option strings the engine's parser takes, and returns their ids", () => {
    expect(checkChardev('socket,id=channel0,path=/v/a,,b.sock,server=on,wait=off')).toEqual({
      option: 'socket,id=channel0,path=/v/a,,b.sock,server=on,wait=off',
      id: 'channel0',
    });
    expect(checkChardev('file,id=log0,path=/tmp/out.log').id).toBe('log0');
    expect(checkChardev('ringbuf,id=rb,size=64K').id).toBe('rb');
    expect(checkPatch({ chardevs: ['null,id=n0', 'ringbuf,id=rb'] }, current)).toEqual({
      chardevs: ['null,id=n0', 'ringbuf,id=rb'],
    });
  });

  it("refuses what the engine would refuse, with QEMU's texts, and what belongs to the engine", () => {
    expect(() => checkChardev('tty,id=t0,path=/dev/ttyS0')).toThrow(
      "Invalid chardev 'tty,id=t0,path=/dev/ttyS0': 'tty' is not a valid char driver name",
    );
    expect(() => checkChardev('file,id=f0')).toThrow('chardev: file: no filename given');
    expect(() => checkChardev('socket,id=s0,server=maybe,path=/x')).toThrow(
      "Parameter 'server' expects 'on' or 'off'",
    );
    expect(() => checkChardev('socket,path=/x,server=on')).toThrow('it needs an id (id=NAME)');
    expect(() => checkChardev('null,id=0bad')).toThrow("Parameter 'id' expects an identifier");
    expect(() => checkChardev('null,id=serial0')).toThrow("the id 'serial0' is the engine's own");
    expect(() => checkChardev('stdio,id=con')).toThrow("'stdio' is the serial console's");
    expect(() => checkChardev('null,id=a\nb')).toThrow('control characters');
    expect(() => checkPatch({ chardevs: ['null,id=a', 'ringbuf,id=a'] }, current)).toThrow(
      "Duplicate ID 'a' for chardev",
    );
    expect(() => checkPatch({ chardevs: 'null,id=a' }, current)).toThrow(
      "Parameter 'chardevs' expects an array",
    );
  });

  it('takes chardevs when a VM is created, none by default', () => {
    const base = { name: 'x', cpus: 1, memoryMiB: 64, machine: 'none' };
    expect(checkNewVm(base).chardevs).toEqual([]);
    expect(checkNewVm({ ...base, chardevs: ['null,id=n0'] }).chardevs).toEqual(['null,id=n0']);
  });
});
