import { describe, expect, it } from 'vitest';
import {
  AddressSpace,
  MEMTX_DECODE_ERROR,
  MEMTX_OK,
  MemoryRegion,
  formatMtree,
  io64,
  type MemoryRegionOps,
} from './memory.js';
import { readReference } from '../../tests/helpers/reference.js';

function recorder(): MemoryRegionOps & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    read(off, size) {
      log.push(`r${size}@${off}`);
      return (0x11223344 + off) >>> 0;
    },
    write(off, value, size, hi) {
      log.push(`w${size}@${off}=${value.toString(16)}/${hi.toString(16)}`);
    },
  };
}

describe('memory regions', () => {
  it('dispatches RAM, MMIO and unassigned accesses', () => {
    const sys = MemoryRegion.container('system', 2 ** 64);
    const ram = MemoryRegion.ram('ram', 0x1000);
    const ops = recorder();
    sys.addSubregion(0x80000000, ram);
    sys.addSubregion(0x10000000, MemoryRegion.io('dev', 0x100, ops));
    const as = new AddressSpace(sys, 'memory');
    expect(as.write(0x80000010, 8, 0xdeadbeef, 0x01020304)).toBe(MEMTX_OK);
    expect(ram.ramBlock!.u8[0x10]).toBe(0xef);
    expect(ram.ramBlock!.u8[0x17]).toBe(0x01);
    expect(as.read(0x80000010, 8)).toBe(0xdeadbeef);
    expect(as.hi).toBe(0x01020304);
    expect(as.read(0x80000012, 2)).toBe(0xdead);
    // 8-byte MMIO with the default impl (4) is split into two 4-byte calls, low first.
    expect(as.read(0x10000008, 8)).toBe(0x1122334c);
    expect(as.hi).toBe(0x11223350);
    expect(ops.log).toEqual(['r4@8', 'r4@12']);
    as.write(0x10000000, 8, 0xaabbccdd, 0x55);
    expect(ops.log.slice(2)).toEqual(['w4@0=aabbccdd/0', 'w4@4=55/0']);
    // Nothing at 0x20000000: decode error (the CPU raises an access fault).
    as.read(0x20000000, 4);
    expect(as.result).toBe(MEMTX_DECODE_ERROR);
    expect(as.write(0x20000000, 4, 1)).toBe(MEMTX_DECODE_ERROR);
    // Misaligned MMIO is rejected unless the device allows it.
    as.read(0x10000001, 4);
    expect(as.result).toBe(MEMTX_DECODE_ERROR);
    as.destroy();
  });

  it('honours valid/impl access sizes and 64-bit MMIO', () => {
    const sys = MemoryRegion.container('system', 2 ** 64);
    let stored = [0, 0];
    const ops: MemoryRegionOps = {
      read(off, size) {
        expect(size).toBe(8);
        io64.hi = stored[1];
        return stored[0];
      },
      write(off, v, size, hi) {
        stored = [v, hi];
      },
      valid: { minAccessSize: 4, maxAccessSize: 8 },
      impl: { minAccessSize: 8, maxAccessSize: 8 },
    };
    sys.addSubregion(0x2000000, MemoryRegion.io('timer', 0x10, ops));
    const as = new AddressSpace(sys, 'memory');
    as.write(0x2000000, 8, 0x89abcdef, 0x01234567);
    expect(as.read(0x2000000, 8)).toBe(0x89abcdef);
    expect(as.hi).toBe(0x01234567);
    // A 4-byte read of the high half widens to the 8-byte implementation.
    expect(as.read(0x2000004, 4)).toBe(0x01234567);
    as.read(0x2000000, 2);
    expect(as.result).toBe(MEMTX_DECODE_ERROR);
    as.destroy();
  });

  it('renders priorities, overlap, aliases, ROM and disabled regions', () => {
    const sys = MemoryRegion.container('system', 0x10000);
    const low = MemoryRegion.ram('low', 0x4000);
    const high = MemoryRegion.ram('high', 0x1000);
    sys.addSubregion(0, low);
    sys.addSubregionOverlap(0x1000, high, 1);
    const rom = MemoryRegion.rom('rom', 0x1000);
    sys.addSubregion(0x8000, rom);
    const al = MemoryRegion.alias('win', low, 0x3000, 0x1000);
    sys.addSubregion(0x9000, al);
    const as = new AddressSpace(sys, 'memory');
    const view = as
      .flatView()
      .map((r) => `${r.start.toString(16)}-${r.end.toString(16)}:${r.mr.name}+${r.offset.toString(16)}`);
    expect(view).toEqual([
      '0-1000:low+0',
      '1000-2000:high+0',
      '2000-4000:low+2000',
      '8000-9000:rom+0',
      '9000-a000:low+3000',
    ]);
    low.ramBlock!.u8[0x3004] = 0x5a;
    expect(as.read(0x9004, 1)).toBe(0x5a);
    // ROM ignores writes.
    as.write(0x8000, 1, 0x77);
    expect(as.read(0x8000, 1)).toBe(0);
    high.setEnabled(false);
    expect(as.lookup(0x1800)!.mr.name).toBe('low');
    high.setEnabled(true);
    expect(as.lookup(0x1800)!.mr.name).toBe('high');
    sys.delSubregion(high);
    expect(as.lookup(0x1800)!.mr.name).toBe('low');
    as.destroy();
  });

  it('prints info mtree like QEMU for the virt layout', () => {
    const ref = readReference('info-mtree.txt').replace(/\r\n/g, '\n');
    const sys = MemoryRegion.container('system', 2 ** 64);
    const ioRoot = MemoryRegion.container('io', 0x10000);
    const noop: MemoryRegionOps = { read: () => 0, write: () => {} };
    sys.addSubregion(0x1000, MemoryRegion.rom('riscv_virt_board.mrom', 0xf000));
    sys.addSubregion(0x100000, MemoryRegion.io('riscv.sifive.test', 0x1000, noop));
    const ecam = MemoryRegion.io('pcie-mmcfg-mmio', 0x10000000, noop);
    const win = MemoryRegion.container('gpex_mmio_window', 2 ** 64);
    win.addSubregion(0, MemoryRegion.io('gpex_mmio', 2 ** 64, noop));
    sys.addSubregion(0x30000000, MemoryRegion.alias('pcie-ecam', ecam, 0, 0x10000000));
    sys.addSubregion(0x40000000, MemoryRegion.alias('pcie-mmio', win, 0x40000000, 0x40000000));
    sys.addSubregion(0x80000000, MemoryRegion.ram('riscv_virt_board.ram', 0x10000));
    const text = formatMtree([
      new AddressSpace(ioRoot, 'I/O'),
      new AddressSpace(sys, 'memory'),
      new AddressSpace(sys, 'cpu-memory-0'),
    ]);
    const lines = text.split('\n');
    expect(lines.slice(0, 5)).toEqual(ref.split('\n').slice(0, 5));
    for (const l of lines)
      if (l.includes('):')) {
        if (l.includes('riscv_virt_board.ram'))
          expect(l).toBe('    0000000080000000-000000008000ffff (prio 0, ram): riscv_virt_board.ram');
        else expect(ref).toContain(l);
      }
    expect(text).toContain(
      'memory-region: pcie-mmcfg-mmio\n  0000000000000000-000000000fffffff (prio 0, i/o): pcie-mmcfg-mmio\n\n',
    );
    expect(text).toContain(
      'memory-region: gpex_mmio_window\n  0000000000000000-ffffffffffffffff (prio 0, i/o): gpex_mmio_window\n    0000000000000000-ffffffffffffffff (prio 0, i/o): gpex_mmio\n',
    );
  });
});
