/**
 * `info qtree`, `info mtree` and `info qom-tree` of `-M virt -m 256M` against QEMU 7.2's, minus the
 * devices we do not have yet (PCIe host, flash, fw_cfg, platform bus) and the two virtio devices the
 * reference was started with.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import '../../engine/system/modules.js';
import { qemuInit } from '../../engine/system/vl.js';
import { qomResetRoot } from '../../engine/qom/object.js';
import { runstateResetForTests } from '../../engine/system/runstate.js';
import { romsClear } from '../../engine/hw/core/loader.js';
import { formatQtree } from '../../engine/hw/core/qdev-monitor.js';
import { formatQomTree } from '../../engine/qom/qom-hmp-cmds.js';
import { formatInfoMtree } from '../../engine/hw/riscv/machine-memory.js';
import { qmpHumanMonitorCommand } from '../../engine/monitor/hmp.js';

const REF = '/work/shared/reference/qemu-7.2-riscv-virt';
const ref = (f: string) => readFileSync(`${REF}/${f}`, 'utf8').replace(/\r/g, '');
const MISSING_DEVICES = ['fw_cfg_mem', 'cfi.pflash01', 'platform-bus-device', 'gpex-pcihost'];

async function reset(): Promise<void> {
  qomResetRoot();
  runstateResetForTests();
  romsClear();
}

beforeEach(async () => {
  await reset();
  const r = await qemuInit(['-M', 'virt', '-m', '256M', '-S', '-bios', 'none', '-display', 'none'], {
    out: () => undefined,
    err: () => undefined,
  });
  expect(r.kind).toBe('running');
});
afterEach(reset);

/** Split qtree text into the blocks of the devices directly on main-system-bus. */
function qtreeDevices(text: string): string[] {
  return text
    .split(/\n(?= {2}dev: )/)
    .slice(1)
    .map((b) => b.replace(/\n+$/, ''));
}

describe('monitor info vs QEMU 7.2', () => {
  it('info qtree', () => {
    const expected = qtreeDevices(ref('info-qtree.txt'))
      .filter((b) => !MISSING_DEVICES.some((t) => b.startsWith(`  dev: ${t},`)))
      // The reference had virtio-blk/virtio-rng plugged into two transports.
      .map((b) => b.replace(/\n {6}dev: [\s\S]*$/, ''));
    expect(qtreeDevices(formatQtree())).toEqual(expected);
  });

  it('info mtree', async () => {
    const skip = /gpex|pcie|platform bus|fwcfg|flash/;
    const refText = ref('info-mtree.txt').split('\n\n');
    // "I/O" and the cpu/memory space; the PCI bus-master space and alias sections are PCI's.
    const expected = [refText[0], refText[1]]
      .map((sec) =>
        sec
          .split('\n')
          .filter((l) => !skip.test(l))
          .join('\n'),
      )
      .join('\n\n');
    expect(formatInfoMtree().trimEnd()).toBe(expected.trimEnd());
    expect((await qmpHumanMonitorCommand('info mtree')).replace(/\r/g, '')).toBe(formatInfoMtree());
    expect(await qmpHumanMonitorCommand('info roms')).toMatch(/name="mrom\.reset"/);
  });

  it('info qom-tree', () => {
    // Memory regions are not QOM objects here; compare the objects QEMU's tree and ours share.
    const objects = (t: string) =>
      t
        .split('\n')
        .filter((l) => l.trim() && !l.includes('(memory-region)'))
        .map((l) => l.trim());
    const ours = objects(formatQomTree());
    const expected = objects(ref('info-qom-tree.txt')).filter(
      (l) =>
        !/fw_cfg|pflash|virt\.flash|gpex|pcie|PCIE|platform-bus|vblk0|vrng0|default-backend|virtio-blk|virtio-rng/.test(
          l,
        ) && !/^\/device\[(1[2-5])\]/.test(l),
    );
    const shared = expected.filter((l) => !/^\/device\[/.test(l));
    for (const l of shared) expect(ours, l).toContain(l);
    // Devices keep QEMU's creation order up to the first one we lack (the PCIe host, device[12]).
    for (let i = 0; i < 12; i++) {
      expect(ours.find((l) => l.startsWith(`/device[${i}] `))).toBe(
        expected.find((l) => l.startsWith(`/device[${i}] `)),
      );
    }
    expect(ours.filter((l) => l.startsWith('/unnamed-gpio-in[')).length).toBe(79 + 96);
  });
});
