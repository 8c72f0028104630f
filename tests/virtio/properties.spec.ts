/**
 * The devices' property tables against QEMU 7.2's: `device-list-properties virtio-blk-device`
 * (names, types, defaults, descriptions) and `-device <type>,help` for virtio-blk-device,
 * virtio-rng-device and virtio-mmio.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../engine/system/modules.js';
import { qmpDeviceListProperties } from '../../engine/qom/qom-qmp-cmds.js';
import { qdevDeviceHelp } from '../../engine/hw/core/qdev-monitor.js';
import { qdict } from '../../engine/qobject/qobject.js';

const REF = join(import.meta.dirname, '../reference/qemu-7.2-riscv-virt');
const ref = (f: string) => readFileSync(join(REF, f), 'utf8').replace(/\r/g, '');

describe('virtio device properties vs QEMU 7.2', () => {
  it('device-list-properties virtio-blk-device', () => {
    const sortByName = (l: Array<{ name: string }>) => [...l].sort((a, b) => (a.name < b.name ? -1 : 1));
    const expected = JSON.parse(ref('device-list-properties.virtio-blk-device.json')) as Array<{
      name: string;
    }>;
    const ours = JSON.parse(
      JSON.stringify(qmpDeviceListProperties({ typename: 'virtio-blk-device' })),
    ) as Array<{
      name: string;
    }>;
    expect(sortByName(ours)).toEqual(sortByName(expected));
  });

  for (const t of ['virtio-blk-device', 'virtio-rng-device', 'virtio-mmio']) {
    it(`-device ${t},help`, () => {
      expect(qdevDeviceHelp(qdict({ driver: t, help: '' }))).toBe(ref(`device-${t}-props.txt`));
    });
  }
});
