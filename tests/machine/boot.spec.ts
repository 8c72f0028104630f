/**
 * Boot information on `virt`: the mask ROM (reset vector + fw_dynamic_info) as QEMU 7.2 writes it,
 * image placement (`info roms` against the reference), error texts, and the reset vector actually
 * executed by our hart handing a0/a1/a2 to the firmware.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../engine/system/modules.js';
import { qemuInit, VlError } from '../../engine/system/vl.js';
import { qomResetRoot } from '../../engine/qom/object.js';
import { runstateResetForTests, setRunStateHooks, vmStart } from '../../engine/system/runstate.js';
import { formatInfoRoms, romsClear } from '../../engine/hw/core/loader.js';
import { addressSpaceMemory } from '../../engine/hw/riscv/machine-memory.js';
import { currentRunLoop } from '../../engine/hw/riscv/riscv-machine.js';
import { chardevDeleteAll } from '../../engine/chardev/char-registry.js';
import { riscvComputeFdtAddr, riscvCalcKernelStartAddr } from '../../engine/hw/riscv/boot.js';
import { QapiError } from '../../engine/qapi/error.js';

const REF = '/work/shared/reference/qemu-7.2-riscv-virt';
const tmp = mkdtempSync(join(tmpdir(), 'virt-boot-'));

async function reset(): Promise<void> {
  currentRunLoop()?.stop();
  qomResetRoot();
  runstateResetForTests();
  romsClear();
  await chardevDeleteAll();
}
afterEach(reset);

async function virt(args: string[]): Promise<void> {
  await reset();
  const r = await qemuInit(['-M', 'virt', '-S', '-display', 'none', ...args], {
    out: () => undefined,
    err: () => undefined,
  });
  expect(r.kind).toBe('running');
}

function file(name: string, size: number): string {
  const p = join(tmp, name);
  writeFileSync(p, new Uint8Array(size));
  return p;
}

/** Words at 0x1000 in QEMU 7.2 `-M virt -m 256M` (monitor `xp /22wx 0x1000`, default firmware). */
const QEMU_MROM_256M = [
  0x00000297, 0x02828613, 0xf1402573, 0x0202b583, 0x0182b283, 0x00028067, 0x80000000, 0x00000000, 0x8fe00000,
  0x00000000, 0x4942534f, 0x00000000, 0x00000002, 0x00000000, 0x00000000, 0x00000000, 0x00000001, 0x00000000,
  0x00000000, 0x00000000, 0x00000000, 0x00000000,
];

describe('virt boot', () => {
  it('writes the reset vector and fw_dynamic_info like QEMU 7.2', async () => {
    await virt(['-m', '256M', '-bios', file('fw.bin', 0x1c280)]);
    const as = addressSpaceMemory();
    const words = QEMU_MROM_256M.map((_, i) => as.read(0x1000 + 4 * i, 4));
    expect(words).toEqual(QEMU_MROM_256M);
  });

  it('places firmware, kernel, initrd and fdt as QEMU does (info roms)', async () => {
    const bios = file('opensbi-riscv64-generic-fw_dynamic.bin', 0x1c280);
    const kernel = file('Image', 0x1db8e00);
    const initrd = file('initramfs.cpio.gz', 0x132779);
    await virt([
      '-m',
      '256M',
      '-bios',
      bios,
      '-kernel',
      kernel,
      '-initrd',
      initrd,
      '-append',
      'console=ttyS0',
    ]);
    const strip = (t: string) => t.replace(/\r/g, '').replace(/name="[^"]*\//g, 'name="');
    expect(strip(formatInfoRoms())).toBe(strip(readFileSync(`${REF}/info-roms.txt`, 'utf8')));
    // next_addr in fw_dynamic_info is the kernel entry.
    const as = addressSpaceMemory();
    expect(as.read(0x1028 + 16, 4)).toBe(0x80200000);
  });

  it('computes placements for other sizes', () => {
    expect(riscvCalcKernelStartAddr(0x80000000 + 0x42c40)).toBe(0x80200000);
    expect(riscvCalcKernelStartAddr(0x80000000)).toBe(0x80000000);
    expect(riscvComputeFdtAddr(0x80000000, 512 * 2 ** 20)).toBe(0x9fe00000);
    // Above 3 GiB the DTB stays below 3 GiB (QEMU keeps it in 32-bit reach).
    expect(riscvComputeFdtAddr(0x80000000, 8 * 2 ** 30)).toBe(0xbfe00000);
  });

  it('reports missing files with QEMU messages', async () => {
    const run = (args: string[]) =>
      virt(args).then(
        () => 'ok',
        (e: unknown) => (e instanceof VlError || e instanceof QapiError ? e.message : String(e)),
      );
    expect(await run(['-bios', '/nonexistent/fw.bin'])).toBe(
      'Unable to load the RISC-V firmware "/nonexistent/fw.bin"',
    );
    expect(await run(['-bios', 'none', '-kernel', '/nonexistent/Image'])).toBe(
      "could not load kernel '/nonexistent/Image'",
    );
    expect(await run(['-bios', 'none', '-kernel', file('k', 16), '-initrd', '/nonexistent/initrd'])).toBe(
      "could not load ramdisk '/nonexistent/initrd'",
    );
  });

  it(
    'the hart runs the reset vector and enters the firmware with a0=hartid, a1=fdt, a2=fw_dynamic_info',
    { timeout: 90_000 },
    async () => {
      /*
       * A raw "firmware" (assembled from):
       *   bnez a0, fail; lwu t0, 0(a1); li t1, 0xedfe0dd0; bne t0, t1, fail
       *   ld t0, 0(a2); li t1, 0x4942534f; bne t0, t1, fail
       *   ld t0, 16(a2); li t1, 0x100000; li t2, 0x5555; sw t2, 0(t1); 1: j 1b
       *   fail: li t1, 0x100000; li t2, 0x73333; sw t2, 0(t1); 2: j 2b
       */
      const prog = new Uint8Array([
        0x0d, 0xed, 0x83, 0xe2, 0x05, 0x00, 0x37, 0xe3, 0x0e, 0x00, 0x05, 0x33, 0x32, 0x03, 0x13, 0x03, 0x03,
        0xdd, 0x63, 0x94, 0x62, 0x02, 0x83, 0x32, 0x06, 0x00, 0x37, 0x53, 0x42, 0x49, 0x1b, 0x03, 0xf3, 0x34,
        0x63, 0x9c, 0x62, 0x00, 0x83, 0x32, 0x06, 0x01, 0x37, 0x03, 0x10, 0x00, 0x95, 0x63, 0x9b, 0x83, 0x53,
        0x55, 0x23, 0x20, 0x73, 0x00, 0x01, 0xa0, 0x37, 0x03, 0x10, 0x00, 0xb7, 0x33, 0x07, 0x00, 0x9b, 0x83,
        0x33, 0x33, 0x23, 0x20, 0x73, 0x00, 0x01, 0xa0,
      ]);
      const fw = join(tmp, 'check.bin');
      writeFileSync(fw, prog);
      await virt(['-bios', fw]);
      const result = new Promise<string>((res) => setRunStateHooks({ exit: (cause) => res(cause) }));
      vmStart();
      const cause = await Promise.race([
        result,
        new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000)),
      ]);
      expect(cause).toBe('guest-shutdown'); // sifive_test PASS, written only if all three checks held
    },
  );
});
