import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appPaths } from '../app/paths.js';
import { isEmptyInfoSnapshots, parseInfoSnapshots } from './info-snapshots.js';

describe('parseInfoSnapshots', () => {
  it("reads QEMU 7.2's rows, including a tag longer than its column", () => {
    const ref = path.join(appPaths.root, 'tests', 'reference', 'qemu-7.2-riscv-virt', 'info-snapshots.txt');
    const text = fs.existsSync(ref)
      ? fs.readFileSync(ref, 'utf8')
      : [
          'List of snapshots present on all disks:',
          'ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT',
          '--        snap1            40.7 MiB 2026-11-21 23:42:21 00:00:09.768           ',
          '--        vm-20261121234230 40.7 MiB 2026-11-21 23:42:30 00:00:15.774           ',
          '--        snap2            40.7 MiB 2026-11-21 23:42:31 00:00:15.774           ',
        ].join('\n');
    const rows = parseInfoSnapshots(text);
    expect(rows.map((r) => r.tag)).toEqual(['snap1', 'vm-20261121234230', 'snap2']);
    expect(rows[0]!.vmStateSize).toBe(Math.round(40.7 * 2 ** 20));
    expect(rows[0]!.createdAt).toBe(new Date(2026, 10, 21, 23, 42, 21).getTime());
  });

  it('reads byte sizes, CRLF line ends and an ICOUNT column', () => {
    const text =
      'List of snapshots present on all disks:\r\nID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT\r\n' +
      '--        a                   956 B 2026-11-22 01:08:04 00:00:01.501       1234\r\n';
    expect(parseInfoSnapshots(text)).toEqual([
      { tag: 'a', createdAt: new Date(2026, 10, 22, 1, 8, 4).getTime(), vmStateSize: 956 },
    ]);
  });

  it('tells an empty list from an answer it does not understand', () => {
    expect(parseInfoSnapshots('There is no snapshot available.\n')).toEqual([]);
    expect(isEmptyInfoSnapshots('There is no snapshot available.\n')).toBe(true);
    expect(isEmptyInfoSnapshots('Error: something else\n')).toBe(false);
  });
});
