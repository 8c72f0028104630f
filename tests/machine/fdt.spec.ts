/**
 * The device tree: libfdt's ordering rules in the builder, the blob layout, dtc-style decompilation,
 * and the `virt` board's DTB against the ones QEMU 7.2 dumps (reference .dts files), node by node.
 */
import { describe, expect, it, beforeEach } from 'vitest';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fdt, formatDts, parseDtb, FDT_MAGIC, type FdtNode } from '../../engine/system/device-tree.js';
import '../../engine/system/modules.js';
import { qemuInit } from '../../engine/system/vl.js';
import { qomResetRoot } from '../../engine/qom/object.js';
import { runstateResetForTests } from '../../engine/system/runstate.js';
import { romsClear } from '../../engine/hw/core/loader.js';
import { objectResolvePath } from '../../engine/qom/object.js';
import { RISCV_ISA_STRING, type RiscvVirtState } from '../../engine/hw/riscv/virt.js';

const REF = '/work/shared/reference/qemu-7.2-riscv-virt';

function resetWorld(): void {
  qomResetRoot();
  runstateResetForTests();
  romsClear();
}

describe('Fdt builder', () => {
  it('inserts new properties and subnodes before the existing ones, like libfdt', () => {
    const f = new Fdt();
    f.setpropString('/', 'a', 'x');
    f.setpropCell('/', 'b', 1);
    f.addSubnode('/n1');
    f.addSubnode('/n2');
    f.setpropString('/', 'a', 'replaced');
    expect(f.root.props.map((p) => p.name)).toEqual(['b', 'a']);
    expect(f.root.children.map((c) => c.name)).toEqual(['n2', 'n1']);
    expect(new TextDecoder().decode(f.getprop('/', 'a'))).toBe('replaced\0');
  });

  it('refuses subnodes of missing parents and duplicates', () => {
    const f = new Fdt();
    expect(() => f.addSubnode('/a/b')).toThrow(/FDT_ERR_NOTFOUND/);
    f.addSubnode('/a');
    expect(() => f.addSubnode('/a')).toThrow(/FDT_ERR_EXISTS/);
    expect(() => f.setpropCell('/nope', 'x', 1)).toThrow(/Couldn't find node \/nope/);
  });

  it('serialises a version 17 blob that parses back to the same tree', () => {
    const f = new Fdt();
    f.setpropCells('/', 'reg', 0, 0x80000000, 0, 0x10000000);
    f.addSubnode('/soc');
    f.setpropEmpty('/soc', 'ranges');
    f.setpropStringArray('/soc', 'compatible', ['a,b', 'simple-bus']);
    f.setpropU64('/soc', 'big', 0x1234567890n);
    const dtb = f.toDtb();
    const dv = new DataView(dtb.buffer);
    expect(dv.getUint32(0)).toBe(FDT_MAGIC);
    expect(dv.getUint32(4)).toBe(dtb.length);
    expect(dv.getUint32(8)).toBe(0x38); // struct right after header + empty reservation map
    expect(dv.getUint32(16)).toBe(0x28);
    expect(dv.getUint32(20)).toBe(17);
    expect(dv.getUint32(24)).toBe(16);
    const back = parseDtb(dtb);
    expect(formatDts(back)).toBe(formatDts(f.root));
    expect(formatDts(back)).toContain('big = <0x12 0x34567890>;');
  });

  it('shares a property name that is the tail of a stored one (fdt_find_add_string_)', () => {
    const f = new Fdt();
    f.setpropCell('/', '#address-cells', 2);
    f.setpropCell('/', 'cells', 1);
    const dtb = f.toDtb();
    const dv = new DataView(dtb.buffer);
    expect(dv.getUint32(32)).toBe('#address-cells\0'.length);
  });

  it('decompiles values with dtc value-type guesses', () => {
    const f = new Fdt();
    f.setpropCell('/', 'clock-frequency', 3686400); // 00 38 40 00: dtc calls it a string
    f.setpropCell('/', 'phandle', 4);
    f.setprop('/', 'bytes', new Uint8Array([1, 2, 3]));
    const dts = formatDts(parseDtb(f.toDtb()));
    expect(dts).toContain('clock-frequency = "\\08@";');
    expect(dts).toContain('phandle = <0x04>;');
    expect(dts).toContain('bytes = [01 02 03];');
  });
});

/** The reference text without nodes we do not model yet, the random seed and QEMU's ISA string. */
function normalizeReference(text: string): string {
  let t = text;
  for (const node of ['fw-cfg@10100000', 'flash@20000000', 'pci@30000000']) {
    t = t.replace(new RegExp(`\\n\\t+${node} \\{\\n[\\s\\S]*?\\n\\t+\\};\\n`), '');
  }
  return t;
}

function normalizeOurs(text: string): string {
  return text.replaceAll(RISCV_ISA_STRING, 'rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc');
}

const seedLine = /\t\trng-seed = <[^>]*>;\n/;

async function dumpVirt(args: string[]): Promise<{ dtb: Uint8Array; size: number; err: string }> {
  resetWorld();
  const dir = mkdtempSync(join(tmpdir(), 'fdt-'));
  const file = join(dir, 'virt.dtb');
  let err = '';
  const r = await qemuInit(['-M', `virt,dumpdtb=${file}`, '-display', 'none', ...args], {
    out: () => undefined,
    err: (t) => (err += t),
  });
  expect(r).toEqual({ kind: 'exit', code: 0 });
  return { dtb: readFileSync(file), size: statSync(file).size, err };
}

describe('virt device tree vs QEMU 7.2', () => {
  beforeEach(resetWorld);

  it('-smp 1 -m 256M: same nodes, properties, phandles and order (minus pci, flash, fw_cfg)', async () => {
    const { dtb, size, err } = await dumpVirt(['-m', '256M', '-bios', 'none']);
    expect(err).toMatch(/^vmstudio-engine: info: dtb dumped to .*virt\.dtb\. Exiting\.\n$/);
    expect(size).toBe(0x100000); // QEMU writes its whole 1 MiB buffer
    const ours = formatDts(parseDtb(dtb));
    const ref = readFileSync(`${REF}/virt-smp1-256M.dts`, 'utf8');
    expect(ours).toMatch(seedLine);
    expect(normalizeOurs(ours).replace(seedLine, '')).toBe(normalizeReference(ref).replace(seedLine, ''));
  });

  it('-smp 2: per-hart nodes, phandles and interrupts-extended as QEMU numbers them', async () => {
    const { dtb } = await dumpVirt(['-m', '256M', '-smp', '2', '-bios', 'none']);
    const ours = normalizeOurs(formatDts(parseDtb(dtb))).replace(seedLine, '');
    const ref = normalizeReference(readFileSync(`${REF}/virt-smp2-256M.dts`, 'utf8')).replace(seedLine, '');
    expect(ours).toBe(ref);
  });

  it('with -kernel/-initrd/-append: bootargs and initrd range in /chosen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdt-k-'));
    const kernel = join(dir, 'Image');
    const initrd = join(dir, 'initrd');
    // Sizes do not matter for placement; the reference initrd is 0x132779 bytes.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(kernel, new Uint8Array(4096));
    writeFileSync(initrd, new Uint8Array(0x132779));
    const { dtb } = await dumpVirt([
      '-m',
      '256M',
      '-bios',
      'none',
      '-kernel',
      kernel,
      '-initrd',
      initrd,
      '-append',
      'console=ttyS0 panic=-1',
    ]);
    const chosen = (n: FdtNode) => n.child('chosen')!;
    const ours = formatDts(parseDtb(dtb));
    const ref = readFileSync(`${REF}/virt-smp1-256M-kernel.dts`, 'utf8');
    // -bios none puts the kernel at 0x80000000 (QEMU: 0x80200000 after OpenSBI), so the initrd
    // lands 128 MiB after it: 0x88000000.
    const root = parseDtb(dtb);
    expect(chosen(root).props.map((p) => p.name)).toEqual([
      'linux,initrd-end',
      'linux,initrd-start',
      'rng-seed',
      'bootargs',
      'stdout-path',
    ]);
    expect(ours).toContain('linux,initrd-start = <0x88000000>;');
    expect(ours).toContain('linux,initrd-end = <0x88132779>;');
    expect(ours).toContain('bootargs = "console=ttyS0 panic=-1";');
    expect(ref).toContain('bootargs = "console=ttyS0 panic=-1";');
  });

  it('-dtb replaces the generated tree and gets bootargs', async () => {
    const first = await dumpVirt(['-m', '256M', '-bios', 'none']);
    const dir = mkdtempSync(join(tmpdir(), 'fdt-dtb-'));
    const given = join(dir, 'given.dtb');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(given, first.dtb);
    const { dtb } = await dumpVirt(['-m', '512M', '-bios', 'none', '-dtb', given, '-append', 'quiet']);
    const root = parseDtb(dtb);
    expect(formatDts(root)).toContain('reg = <0x00 0x80000000 0x00 0x10000000>;'); // the given 256M, not -m
    expect(new TextDecoder().decode(root.child('chosen')!.prop('bootargs'))).toBe('quiet\0');
    expect(root.child('chosen')!.props[0]!.name).toBe('bootargs');
  });

  it('keeps the generated tree on the machine and an unchanged DTB is deterministic apart from the seed', async () => {
    resetWorld();
    const r = await qemuInit(['-M', 'virt', '-S', '-bios', 'none', '-display', 'none'], {
      out: () => undefined,
      err: () => undefined,
    });
    expect(r.kind).toBe('running');
    const m = objectResolvePath('/machine') as RiscvVirtState;
    expect(m.fdt?.getpropCell('/soc/plic@c000000', 'riscv,ndev')).toBe(96);
    expect(m.fdt?.getprop('/chosen', 'rng-seed')?.length).toBe(32);
    resetWorld();
  });
});
