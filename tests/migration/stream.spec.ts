/**
 * The migration stream against QEMU 7.2: byte equality for an equivalent machine, QEMU's refusals
 * (with its texts) for wrong, truncated and newer streams, and the guarantee QEMU lacks: a refused
 * stream leaves every device and all RAM exactly as before.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { qomResetRoot, typeRegister } from '../../engine/qom/object.js';
import { machineCreate, machineRunBoardInit } from '../../engine/hw/core/machine.js';
import { DeviceClass, qdevNew, qdevRealizeAndUnref, qdevUnrealize } from '../../engine/hw/core/qdev-core.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE, sysbusGetDefault } from '../../engine/hw/core/sysbus.js';
import { qdevDeviceAdd } from '../../engine/hw/core/qdev-monitor.js';
import { testBridgeCreate } from '../../engine/hw/testdev/test-bridge.js';
import '../../engine/hw/testdev/index.js';
import type { TestDevice } from '../../engine/hw/testdev/test-device.js';
import { qdict } from '../../engine/qobject/qobject.js';
import { RamBlock } from '../../engine/system/physmem.js';
import { runstateResetForTests } from '../../engine/system/runstate.js';
import { qemuLoadvmState, qemuSavevmState } from '../../engine/migration/savevm.js';
import { findSe, savevmHandlers } from '../../engine/migration/register.js';
import { ramRegistryReset, vmstateRegisterRam } from '../../engine/migration/ram.js';
import { globalStateStore } from '../../engine/migration/global-state.js';
import { virtualClock, virtualClockFollowRunState } from '../../engine/system/virtual-clock.js';
import { MigrationError } from '../../engine/migration/migration-error.js';
import type { VMStateDescription } from '../../engine/migration/vmstate-types.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

/** A sysbus device with state of several kinds and an optional subsection. */
class StateDev extends SysBusDevice {
  ctrl = 0;
  regs = new Uint32Array(4);
  fifo = new Uint8Array(8);
  big: number | bigint = 0;
  extra = 0;
  refuse = false;
  postLoads = 0;
}

const vmstateStateDev: VMStateDescription = {
  name: 'mig-state-dev',
  versionId: 2,
  minimumVersionId: 1,
  fields: [
    { name: 'ctrl', kind: 'uint16' },
    { name: 'regs', kind: 'array', elem: 'uint32', length: 4 },
    { name: 'fifo', kind: 'buffer', length: 8 },
    { name: 'big', kind: 'uint64', versionId: 2 },
  ],
  subsections: [
    {
      name: 'mig-state-dev/extra',
      versionId: 1,
      minimumVersionId: 1,
      needed: (d: StateDev) => d.extra !== 0,
      fields: [{ name: 'extra', kind: 'uint32' }],
    },
  ],
  postLoad(d: StateDev) {
    d.postLoads++;
    if (d.refuse) throw new MigrationError(22, 'mig-state-dev: refused');
  },
};

typeRegister<StateDev, DeviceClass>({
  name: 'mig-state-dev',
  parent: TYPE_SYS_BUS_DEVICE,
  instance: StateDev,
  classInit(dc) {
    dc.vmsd = vmstateStateDev;
  },
});

function addStateDev(): StateDev {
  const d = qdevNew<StateDev>('mig-state-dev');
  qdevRealizeAndUnref(d, sysbusGetDefault());
  return d;
}

function freshNone(): void {
  qomResetRoot();
  runstateResetForTests();
  virtualClock.reset();
  virtualClockFollowRunState();
  ramRegistryReset();
  const m = machineCreate('none');
  machineRunBoardInit(m);
}

function errOf(fn: () => unknown): MigrationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MigrationError) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

beforeEach(() => freshNone());

describe('stream layout compared with QEMU 7.2', () => {
  it('an empty `none` machine in prelaunch gives the same bytes as qemu-system-riscv64 -M none -S', () => {
    globalStateStore('prelaunch');
    const ours = qemuSavevmState();
    const qemu = readFileSync(join(FIXTURES, 'qemu-7.2-none-prelaunch.mig'));
    expect(Buffer.from(ours).toString('hex')).toBe(qemu.toString('hex'));
  });

  it('QEMU 7.2 stream loads into ours', () => {
    const qemu = new Uint8Array(readFileSync(join(FIXTURES, 'qemu-7.2-none-prelaunch.mig')));
    const r = qemuLoadvmState(qemu);
    expect(r.sections).toEqual(['ram', 'timer', 'globalstate']);
    expect(r.vmdesc).toMatch(/^\{"page_size": 4096, "devices": \[\{"name": "timer"/);
  });

  it('RAM: block list largest first, zero pages as ZERO + fill byte, data pages as PAGE, CONTINUE within a block', () => {
    const small = new RamBlock('mig.rom', 0x2000);
    const big = new RamBlock('mig.ram', 0x3000);
    vmstateRegisterRam(small);
    vmstateRegisterRam(big);
    big.u8[0x1000] = 0xaa;
    const s = Buffer.from(qemuSavevmState({ suppressVmdesc: true }));
    // START: total | MEM_SIZE, then "mig.ram" 0x3000, "mig.rom" 0x2000, EOS
    const start = Buffer.concat([
      Buffer.from('01000000020372616d0000000000000004', 'hex'),
      Buffer.from('0000000000005004', 'hex'),
      Buffer.from([7]),
      Buffer.from('mig.ram'),
      Buffer.from('0000000000003000', 'hex'),
      Buffer.from([7]),
      Buffer.from('mig.rom'),
      Buffer.from('0000000000002000', 'hex'),
      Buffer.from('0000000000000010', 'hex'),
      Buffer.from('7e00000002', 'hex'),
    ]);
    expect(s.indexOf(start)).toBe(8 + 1 + 4 + 4);
    const page = Buffer.alloc(4096);
    page[0] = 0xaa;
    const part = Buffer.concat([
      Buffer.from('0200000002', 'hex'),
      Buffer.from('0000000000000002', 'hex'),
      Buffer.from([7]),
      Buffer.from('mig.ram'),
      Buffer.from([0]),
      Buffer.from('0000000000001028', 'hex'),
      page,
      Buffer.from('0000000000002022', 'hex'),
      Buffer.from([0]),
      Buffer.from('0000000000000002', 'hex'),
      Buffer.from([7]),
      Buffer.from('mig.rom'),
      Buffer.from([0]),
      Buffer.from('0000000000001022', 'hex'),
      Buffer.from([0]),
      Buffer.from('0000000000000010', 'hex'),
      Buffer.from('7e00000002', 'hex'),
      Buffer.from('0300000002' + '0000000000000010' + '7e00000002', 'hex'),
    ]);
    expect(s.indexOf(part)).toBe(8 + 1 + 4 + 4 + start.length);
  });

  it('device sections: sysbus devices use the vmsd name with instance ids 0, 1, ...; the vmdesc lists them', () => {
    const a = addStateDev();
    const b = addStateDev();
    a.ctrl = 1;
    b.ctrl = 2;
    b.extra = 5;
    const ids = savevmHandlers().map((se) => `${se.idstr}#${se.instanceId}`);
    expect(ids).toContain('mig-state-dev#0');
    expect(ids).toContain('mig-state-dev#1');
    const r = qemuLoadvmState(qemuSavevmState());
    const desc = JSON.parse(r.vmdesc!);
    const devs = desc.devices.filter((d: { name: string }) => d.name === 'mig-state-dev');
    expect(devs.map((d: { instance_id: number }) => d.instance_id)).toEqual([0, 1]);
    expect(devs[1].subsections[0].vmsd_name).toBe('mig-state-dev/extra');
    expect(devs[0].fields.map((f: { name: string }) => f.name)).toEqual(['ctrl', 'regs', 'fifo', 'big']);
  });

  it('a device is unregistered when unrealized', () => {
    const a = addStateDev();
    expect(findSe('mig-state-dev', 0)).not.toBeNull();
    qdevUnrealize(a);
    expect(findSe('mig-state-dev', 0)).toBeNull();
  });

  it('devices on a bus with a qdev path are named by it (test bus: none, so vmsd name)', () => {
    testBridgeCreate();
    const d = qdevDeviceAdd(qdict({ driver: 'vmstudio-test-device', id: 't0' })) as TestDevice;
    d.doorbell = 0x1234;
    const s = qemuSavevmState();
    d.doorbell = 0;
    qemuLoadvmState(s);
    expect(d.doorbell).toBe(0x1234);
  });
});

describe('save -> load -> save is byte-identical', () => {
  it('for each device and for the whole machine', () => {
    const blk = new RamBlock('mig.ram', 0x4000);
    vmstateRegisterRam(blk);
    const a = addStateDev();
    a.ctrl = 0xbeef;
    a.regs.set([1, 2, 3, 4]);
    a.fifo.set([9, 8, 7]);
    a.big = 1n << 60n;
    a.extra = 3;
    blk.u8.set([1, 2, 3], 0x2000);
    const first = qemuSavevmState();
    // scramble everything, then load and save again
    a.ctrl = 0;
    a.regs.fill(0);
    a.fifo.fill(0);
    a.big = 0;
    a.extra = 0;
    blk.u8.fill(0x55);
    qemuLoadvmState(first);
    expect(a.big).toBe(1n << 60n);
    expect(Buffer.from(qemuSavevmState()).equals(Buffer.from(first))).toBe(true);
  });
});

describe('refused streams leave the machine as it was', () => {
  let dev: StateDev;
  let blk: RamBlock;
  let good: Uint8Array;

  function snapshotState(): string {
    const ram = createHash('sha256').update(blk.u8).digest('hex');
    return JSON.stringify({
      ctrl: dev.ctrl,
      regs: [...dev.regs],
      fifo: [...dev.fifo],
      big: String(dev.big),
      extra: dev.extra,
      ram,
    });
  }

  beforeEach(() => {
    blk = new RamBlock('mig.ram', 0x3000);
    vmstateRegisterRam(blk);
    dev = addStateDev();
    dev.ctrl = 7;
    dev.extra = 1;
    blk.u8[5] = 1;
    blk.u8[0x2000] = 2;
    good = qemuSavevmState();
    // the running state differs from the stream's
    dev.ctrl = 8;
    dev.regs[2] = 9;
    dev.extra = 0;
    blk.u8[0x1000] = 3;
    blk.u8[0x2000] = 4;
  });

  const mutate = (fn: (b: Buffer) => Buffer) => new Uint8Array(fn(Buffer.from(good)));
  const sectionAt = (b: Buffer, name: string) =>
    b.indexOf(Buffer.concat([Buffer.from([name.length]), Buffer.from(name)]));

  const cases: Array<[string, (b: Buffer) => Buffer, string[], number]> = [
    ['bad magic', (b) => (b.writeUInt8(0x51 ^ 1, 0), b), ['Not a migration stream'], 22],
    [
      'v2 stream',
      (b) => (b.writeUInt32BE(2, 4), b),
      ["SaveVM v2 format is obsolete and don't work anymore"],
      95,
    ],
    ['newer stream format', (b) => (b.writeUInt32BE(4, 4), b), ['Unsupported migration stream version'], 95],
    [
      'another machine type',
      (b) => (b.write('nonf', 13, 'latin1'), b),
      ["Machine type received is 'nonf' and local is 'none'"],
      22,
    ],
    [
      'unknown section',
      (b) => (b.write('mig-state-deX', sectionAt(b, 'mig-state-dev') + 1, 'latin1'), b),
      [
        "Unknown savevm section or instance 'mig-state-deX' 0. Make sure that your current VM setup matches your saved VM setup, including any hotplugged devices",
      ],
      22,
    ],
    [
      'newer section version',
      (b) => (b.writeUInt32BE(3, sectionAt(b, 'mig-state-dev') + 14 + 4), b),
      ["savevm: unsupported version 3 for 'mig-state-dev' v2"],
      22,
    ],
    [
      'unknown subsection',
      (b) => (b.write('X', sectionAt(b, 'mig-state-dev/extra') + 15, 'latin1'), b),
      ["error while loading state for instance 0x0 of device 'mig-state-dev'"],
      2,
    ],
    [
      'RAM block of another size',
      (b) => (b.writeUInt32BE(0x4000, sectionAt(b, 'mig.ram') + 8 + 4), b),
      [
        'Size mismatch: mig.ram: 0x4000 != 0x3000: Invalid argument',
        "error while loading state for instance 0x0 of device 'ram'",
      ],
      22,
    ],
    [
      'bad section footer',
      (b) => {
        const i = sectionAt(b, 'mig-state-dev');
        const footer = b.indexOf(Buffer.from([0x7e]), i + 14 + 8 + 2 + 16 + 8 + 8);
        b.writeUInt32BE(0x99, footer + 1);
        return b;
      },
      ['Mismatched section id in footer for mig-state-dev - read 0x99 expected 0x%ID%'],
      22,
    ],
    [
      'truncated in a device section',
      (b) => b.subarray(0, sectionAt(b, 'mig-state-dev') + 14 + 8 + 3),
      [
        'Failed to load mig-state-dev:regs',
        "error while loading state for instance 0x0 of device 'mig-state-dev'",
      ],
      5,
    ],
    ['truncated before EOF', (b) => b.subarray(0, b.indexOf(Buffer.from([0, 6, 0, 0]))), [], 5],
  ];

  for (const [what, fn, reports, errno] of cases) {
    it(`${what}: QEMU's error, nothing changed`, () => {
      const before = snapshotState();
      const e = errOf(() => qemuLoadvmState(mutate(fn)));
      const id = findSe('mig-state-dev', 0)!.sectionId.toString(16);
      expect(e.reports).toEqual(reports.map((r) => r.replace('%ID%', id)));
      expect(e.errno).toBe(errno);
      expect(snapshotState()).toBe(before);
    });
  }

  it('a post_load that refuses (after RAM was loaded) rolls RAM and devices back', () => {
    const before = snapshotState();
    dev.refuse = true;
    const e = errOf(() => qemuLoadvmState(good));
    expect(e.message).toBe('mig-state-dev: refused');
    dev.refuse = false;
    expect(snapshotState()).toBe(before);
  });

  it('the good stream still loads', () => {
    qemuLoadvmState(good);
    expect(dev.ctrl).toBe(7);
    expect(dev.regs[2]).toBe(0);
    expect(dev.extra).toBe(1);
    expect(blk.u8[0x1000]).toBe(0);
    expect(blk.u8[0x2000]).toBe(2);
  });
});
