import { describe, expect, it } from 'vitest';
import type { Vm } from '../api/contract.js';
import { buildEngineArgs, escapeOptionValue } from './cmdline.js';

const vm: Vm = {
  id: 'id1',
  name: 'web, server',
  guest: null,
  machine: 'virt',
  cpus: 2,
  memoryMiB: 512,
  firmware: null,
  kernel: '/g/Image',
  initrd: '/g/initrd.img',
  append: 'console=ttyS0 root=/dev/vda1',
  devices: ['virtio-rng-device,id=rng0', 'virtio-serial-device', 'virtserialport,chardev=channel0'],
  chardevs: ['socket,id=channel0,path=/v/channel0.sock,server=on,wait=off'],
  notes: '',
  disks: [
    { file: '/d/a,b.img', format: 'raw', interface: 'virtio', readonly: false },
    { file: '/d/ro.img', format: 'raw', interface: 'virtio', readonly: true },
  ],
  createdAt: 0,
  updatedAt: 0,
};

describe('buildEngineArgs', () => {
  it('doubles commas inside option values', () => {
    expect(escapeOptionValue('a,b,,c')).toBe('a,,b,,,,c');
  });

  it('maps every configured field onto its QEMU option', () => {
    const args = buildEngineArgs(vm, { qmpSocket: '/run/x/qmp.sock' });
    const pairs = new Map<string, string[]>();
    for (let i = 0; i < args.length; i++) {
      if (args[i]!.startsWith('-') && args[i + 1] !== undefined && !args[i + 1]!.startsWith('-')) {
        pairs.set(args[i]!, [...(pairs.get(args[i]!) ?? []), args[i + 1]!]);
        i++;
      }
    }
    expect(pairs.get('-name')).toEqual(['web,, server']);
    expect(pairs.get('-M')).toEqual(['virt']);
    expect(pairs.get('-smp')).toEqual(['2']);
    expect(pairs.get('-m')).toEqual(['512M']);
    expect(pairs.get('-kernel')).toEqual(['/g/Image']);
    expect(pairs.get('-initrd')).toEqual(['/g/initrd.img']);
    expect(pairs.get('-append')).toEqual(['console=ttyS0 root=/dev/vda1']);
    expect(pairs.get('-drive')).toEqual([
      'file=/d/a,,b.img,format=raw,if=none,id=disk0,node-name=disk0-node',
      'file=/d/ro.img,format=raw,if=none,id=disk1,node-name=disk1-node,readonly=on',
    ]);
    // virtio disks get explicit virtio-mmio devices, before the user's devices (vda, vdb in order).
    expect(pairs.get('-device')).toEqual([
      'virtio-blk-device,drive=disk0',
      'virtio-blk-device,drive=disk1',
      'virtio-rng-device,id=rng0',
      'virtio-serial-device',
      'virtserialport,chardev=channel0',
    ]);
    expect(pairs.get('-chardev')).toEqual(['socket,id=channel0,path=/v/channel0.sock,server=on,wait=off']);
    // A chardev exists before the device that names it (QEMU creates them in command-line order).
    expect(args.indexOf('-chardev')).toBeLessThan(args.indexOf('-device'));
    expect(pairs.get('-serial')).toEqual(['stdio']);
    expect(pairs.get('-qmp')).toEqual(['unix:/run/x/qmp.sock,server=on,wait=off']);
    expect(args).not.toContain('-bios');
  });

  it('connects no serial console on the none machine, which has no serial port', () => {
    const args = buildEngineArgs({ ...vm, machine: 'none' }, { qmpSocket: '/q' });
    expect(args).not.toContain('-serial');
    // No virtio transport on `none`: the disks are block nodes only.
    expect(args.filter((a) => a.startsWith('virtio-blk-device'))).toEqual([]);
    expect(args.slice(args.indexOf('-M'), args.indexOf('-M') + 2)).toEqual(['-M', 'none']);
  });
});
