/**
 * `-drive file=X,if=virtio` on the `virt` machine. QEMU 7.2 creates an anonymous virtio-blk-pci;
 * our virt has no PCIe host, so the drive gets a virtio-blk-device on the next free virtio-mmio
 * transport (engine/hw/virtio/virtio-blk-drive.ts). Checked here: query-block from the command line
 * against qemu-system-riscv64 7.2 with the same options (drive names virtio0, virtio1, image info;
 * "qdev" differs only by QEMU's "/virtio-backend" child of the PCI proxy), and in-process that the
 * guest reads the images' data through the transports the drives landed on, and QEMU's error when
 * the transports run out.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { VlError } from '../../engine/system/vl.js';
import { objectGetTypename, objectResolvePath } from '../../engine/qom/object.js';
import { qmpQueryBlock } from '../../engine/block/blockdev.js';
import type { DeviceState } from '../../engine/hw/core/qdev-core.js';
import type { VirtIODevice } from '../../engine/hw/virtio/virtio.js';
import { FakeDriver, peripheral, resetEngine, startVirt } from '../helpers/virt-device-harness.js';

const MAIN = resolve(import.meta.dirname, '../block/engine-main.ts');
const QEMU = '/usr/bin/qemu-system-riscv64';
const dir = mkdtempSync(join(tmpdir(), 'vmstudio-ifvirtio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A qcow2 with 0xab in its first sector and a raw image with 0xcd in its first sector. */
function images(tag: string): { qcow2: string; raw: string } {
  const qcow2 = join(dir, `${tag}.qcow2`);
  const raw = join(dir, `${tag}.raw`);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow2, '16M']);
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 512', qcow2], { stdio: 'ignore' });
  const r = new Uint8Array(8 * 1024 * 1024);
  r.fill(0xcd, 0, 512);
  writeFileSync(raw, r);
  return { qcow2, raw };
}

type Info = Record<string, unknown>;

/** query-block from a process started with `args` (QMP on stdio, paused). */
function queryBlock(cmd: string, pre: string[], args: string[]): Info[] {
  const input = ['qmp_capabilities', 'query-block', 'quit']
    .map((c) => JSON.stringify({ execute: c }))
    .join('\n');
  const r = spawnSync(
    cmd,
    [...pre, '-M', 'virt', '-S', '-display', 'none', '-bios', 'none', '-qmp', 'stdio', ...args],
    {
      input: `${input}\n`,
      encoding: 'utf8',
      timeout: 30000,
    },
  );
  const replies = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Info)
    .filter((m) => Array.isArray(m['return']));
  expect(replies.length, r.stderr).toBe(1);
  return replies[0]!['return'] as Info[];
}

/** What must match QEMU: everything but the random node names (and qdev, compared separately). */
function comparable(list: Info[]): Info[] {
  return list.map((b) => {
    const { qdev: _qdev, ...rest } = b;
    const inserted = rest['inserted'] as Info | undefined;
    if (!inserted) return rest;
    const { 'node-name': _n, ...ins } = inserted;
    return { ...rest, inserted: ins };
  });
}

describe('-drive if=virtio from the command line', () => {
  it('query-block names the drives virtio0, virtio1 with QEMU 7.2 contents', () => {
    const { qcow2, raw } = images('cli');
    const drives = ['-drive', `file=${qcow2},if=virtio`, '-drive', `file=${raw},if=virtio,format=raw`];
    const ours = queryBlock(process.execPath, ['--import', 'tsx', MAIN], drives);
    expect(ours.map((b) => b['device'])).toEqual(['virtio0', 'virtio1', 'none2', 'floppy0', 'sd0']);
    expect(ours.slice(0, 2).map((b) => b['qdev'])).toEqual([
      '/machine/peripheral-anon/device[0]',
      '/machine/peripheral-anon/device[1]',
    ]);
    expect(ours[0]!['inserted']).toMatchObject({ drv: 'qcow2', file: qcow2, ro: false });
    expect(ours[1]!['inserted']).toMatchObject({ drv: 'raw', file: raw });
    if (!existsSync(QEMU)) return;
    const theirs = queryBlock(QEMU, [], drives);
    expect(comparable(ours)).toEqual(comparable(theirs));
    // QEMU's drive sits under the PCI proxy's virtio-backend child; ours is the mmio device itself.
    expect(theirs.slice(0, 2).map((b) => b['qdev'])).toEqual(
      ours.slice(0, 2).map((b) => `${String(b['qdev'])}/virtio-backend`),
    );
  }, 60000);
});

describe('-drive if=virtio devices', () => {
  afterEach(() => resetEngine());

  /** Read sector 0 through the device, as a guest driver would. */
  async function readSector0(dev: VirtIODevice, ramOffset: number): Promise<Uint8Array> {
    const drv = new FakeDriver(dev, ramOffset);
    drv.init(0n, 1, 16);
    const hdr = new Uint8Array(16); // type 0 = IN, sector 0
    drv.queues[0]!.add([hdr], [512, 1]);
    for (let i = 0; i < 200; i++) {
      const used = drv.queues[0]!.takeUsed();
      if (used.length) {
        expect(used[0]!.data[512]).toBe(0); // VIRTIO_BLK_S_OK
        return used[0]!.data.subarray(0, 512);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no completion');
  }

  // The first in-process engine of this file: -drive unit numbers (virtio0, ...) count per process.
  it('are virtio-blk-devices on the next free transports, after -device ones, serving the images', async () => {
    const { qcow2, raw } = images('dev');
    await startVirt([
      '-drive',
      `file=${qcow2},if=virtio`,
      '-device',
      'virtio-rng-device,id=rng', // -device options come first, as in QEMU
      '-drive',
      `file=${raw},if=virtio,format=raw`,
    ]);
    const rng = peripheral<DeviceState>('rng');
    const d0 = objectResolvePath('/machine/peripheral-anon/device[0]') as DeviceState & VirtIODevice;
    const d1 = objectResolvePath('/machine/peripheral-anon/device[1]') as DeviceState & VirtIODevice;
    expect(objectGetTypename(d0)).toBe('virtio-blk-device');
    expect(objectGetTypename(d1)).toBe('virtio-blk-device');
    // virtio-mmio@10008000 is the first free transport, then 10007000, 10006000.
    const busOf = (d: DeviceState) => d.parentBus!.name;
    expect([busOf(rng), busOf(d0), busOf(d1)]).toEqual([
      'virtio-mmio-bus.7',
      'virtio-mmio-bus.6',
      'virtio-mmio-bus.5',
    ]);
    expect(
      qmpQueryBlock()
        .slice(0, 2)
        .map((b) => [b.device, b.qdev]),
    ).toEqual([
      ['virtio0', '/machine/peripheral-anon/device[0]'],
      ['virtio1', '/machine/peripheral-anon/device[1]'],
    ]);
    expect([...(await readSector0(d0, 0x100000))]).toEqual(new Array(512).fill(0xab));
    expect([...(await readSector0(d1, 0x200000))]).toEqual(new Array(512).fill(0xcd));
  });

  it('fails like `-device virtio-blk-device` once the 8 transports are taken', async () => {
    const { raw } = images('many');
    const args: string[] = [];
    for (let i = 0; i < 9; i++) args.push('-drive', `file=${raw},if=virtio,format=raw,readonly=on`);
    const err = await startVirt(args).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VlError);
    expect((err as VlError).location).toBe(`-drive file=${raw},if=virtio,format=raw,readonly=on`);
    expect((err as VlError).message).toBe("No 'virtio-bus' bus found for device 'virtio-blk-device'");
  });
});
