import { describe, expect, it } from 'vitest';
import { AddressSpace, MemoryRegion } from '../../system/memory.js';
import { ACC_R, PRV_S, RiscvCpu } from './cpu.js';
import { CSR_MCAUSE } from './cpu-state.js';
import { csrWrite } from './csr.js';
import { CpuRunLoop } from './cpu-loop.js';
import { formatRegisters } from './cpu-dump.js';
import { expandRvc, INSNS, lookup32 } from './decode.js';
import { disassemble } from './disas.js';
import {
  F32,
  F64,
  FLAG_NX,
  FLAG_OF,
  FLAG_UF,
  fadd,
  fdiv,
  ffma,
  fmul,
  fpst,
  fsqrt,
  RM_RDN,
  RM_RNE,
  RM_RTZ,
  RM_RUP,
} from './softfloat.js';
import { readReference } from '../../../tests/helpers/reference.js';

/** A hart with 64 KiB of RAM at 0x80000000 running `words` from there. */
function machine(words: number[]): { cpu: RiscvCpu; as: AddressSpace; ram: MemoryRegion } {
  const sys = MemoryRegion.container('system', 2 ** 64);
  const ram = MemoryRegion.ram('ram', 0x10000);
  sys.addSubregion(0x80000000, ram);
  const as = new AddressSpace(sys, 'memory');
  const i32 = ram.ramBlock!.i32;
  words.forEach((w, i) => (i32[i] = w));
  const cpu = new RiscvCpu({
    as,
    resetvec: 0x80000000,
    time: { frequency: 10_000_000, ticks: () => Math.floor(performance.now() * 10_000) },
  });
  return { cpu, as, ram };
}

describe('instruction table', () => {
  it('decodes every entry to itself and disassembles it by name', () => {
    INSNS.forEach((d, i) => {
      expect(lookup32(d.match), d.name).toBe(i);
      expect(disassemble(d.match).split(' ')[0]).toBe(d.name);
    });
  });

  it('expands compressed instructions to their 32-bit forms', () => {
    expect(disassemble(expandRvc(0x1141))).toBe('addi sp,sp,-16'); // c.addi sp,-16
    expect(disassemble(0x8082)).toBe('c.jalr zero,0(ra)'); // c.jr ra (ret)
    expect(expandRvc(0x0000)).toBe(0); // the all-zero parcel is illegal
    expect(disassemble(0xe406)).toBe('c.sd ra,8(sp)'); // c.sdsp ra,8(sp)
  });
});

describe('soft-float', () => {
  const bits32 = (v: number): number => new Uint32Array(new Float32Array([v]).buffer)[0];
  it('rounds 1/3 per mode and flags inexact', () => {
    fpst.flags = 0;
    expect(bits32(fdiv(1, 3, RM_RNE, F32))).toBe(0x3eaaaaab);
    expect(fpst.flags).toBe(FLAG_NX);
    expect(bits32(fdiv(1, 3, RM_RTZ, F32))).toBe(0x3eaaaaaa);
    expect(bits32(fdiv(-1, 3, RM_RDN, F32))).toBe(0xbeaaaaab);
    expect(fdiv(1, 3, RM_RUP, F64)).toBe(0.33333333333333337);
    expect(fdiv(1, 3, RM_RTZ, F64)).toBe(0.3333333333333333);
  });
  it('detects overflow, underflow after rounding and exact results', () => {
    fpst.flags = 0;
    expect(fmul(3e38, 10, RM_RNE, F32)).toBe(Infinity);
    expect(fpst.flags).toBe(FLAG_OF | FLAG_NX);
    fpst.flags = 0;
    expect(fmul(3e38, 10, RM_RTZ, F32)).toBe(3.4028234663852886e38);
    fpst.flags = 0;
    fmul(2 ** -1000, 2 ** -60, RM_RNE, F64);
    expect(fpst.flags).toBe(0); // exact subnormal
    fmul(2 ** -1000 * 1.5, 2 ** -74.5 * 0 + 2 ** -74, RM_RNE, F64);
    expect(fpst.flags & FLAG_UF).toBe(FLAG_UF);
    fpst.flags = 0;
    expect(fadd(0.5, 0.25, RM_RNE, F64)).toBe(0.75);
    expect(fsqrt(2, RM_RNE, F64)).toBe(Math.SQRT2);
    expect(fpst.flags).toBe(FLAG_NX);
    expect(Object.is(fadd(1, -1, RM_RDN, F64), -0)).toBe(true);
    // fma keeps the exact product: (1+2^-52)*(1-2^-52) - 1 = -2^-104
    expect(ffma(1 + 2 ** -52, 1 - 2 ** -52, -1, RM_RNE, F64)).toBe(-(2 ** -104));
  });
});

describe('hart', () => {
  it('runs integer code and prints info registers in QEMU layout', () => {
    // li a0, 5; li a1, 7; mul a2, a0, a1; wfi
    const { cpu } = machine([0x00500513, 0x00700593, 0x02b50633, 0x10500073]);
    cpu.run(100);
    expect(cpu.getX(12)).toBe(35n);
    expect(cpu.wfi).toBe(true);
    const dump = formatRegisters(cpu);
    const ref = readReference('info-registers.txt').replace(/\r/g, '').split('\n');
    const ours = dump.split('\n');
    // Same line shapes for every line QEMU prints without H (names, spacing, 16 hex digits).
    const shape = (l: string): string => l.replace(/[0-9a-f]{16}/g, 'H');
    const refShapes = new Set(ref.map(shape));
    for (const l of ours.filter((x) => x)) expect(refShapes.has(shape(l)), l).toBe(true);
    expect(ours).toContain(
      ' x8/s0    0000000000000000 x9/s1    0000000000000000 x10/a0   0000000000000005 x11/a1   0000000000000007',
    );
    cpu.destroy();
  });

  it('raises an access fault for unmapped memory with mtval = address', () => {
    // lui a0, 0x10000 (a0 = 0x10000000); lw a1, 0(a0)
    const { cpu } = machine([0x10000537, 0x00052583]);
    cpu.run(2);
    expect(cpu.csr[8 * 2]).toBe(5); // mcause: load access fault
    expect(cpu.csr[9 * 2]).toBe(0x10000000);
    cpu.destroy();
  });
});

describe('page walk', () => {
  /** Sv39 tables in RAM mapping VA 0x1000 to `target`: root 0x80001000, then 0x80002000, 0x80003000. */
  function sv39(): { cpu: RiscvCpu; leaf: (target: number) => void } {
    const { cpu, ram } = machine([]);
    const w = ram.ramBlock!.i32;
    const pte = (addr: number, ppnAddr: number, flags: number) => {
      w[(addr - 0x80000000) >> 2] = ((ppnAddr / 4096) << 10) | flags;
      w[((addr - 0x80000000) >> 2) + 1] = 0;
    };
    pte(0x80001000, 0x80002000, 1); // pointer (V)
    pte(0x80002000, 0x80003000, 1);
    const leaf = (target: number) => pte(0x80003000 + 8, target, 0xc7); // V R W A D
    leaf(0x80004000);
    csrWrite(cpu, 0x3b0, -1, 0x3fffff); // pmpaddr0: everything (NAPOT)
    csrWrite(cpu, 0x3a0, 0x1f, 0); // pmpcfg0: NAPOT, RWX
    csrWrite(cpu, 0x180, 0x80001, 8 << 28); // satp: Sv39, root 0x80001000
    cpu.priv = PRV_S;
    return { cpu, leaf };
  }

  it('reads page tables as they are now, and obeys PMP changes for them', () => {
    const { cpu, leaf } = sv39();
    expect(cpu.translate(0x1234, 0, ACC_R, 8)).toBe(0x80004234);
    // A walk reads the tables afresh (the walk's own caching is of where they are, not of PTEs).
    leaf(0x80005000);
    expect(cpu.translate(0x1234, 0, ACC_R, 8)).toBe(0x80005234);
    // PMP now denies S-mode reads of the page tables (TOR below 0x80003000, no permissions; the
    // rest allowed): the next walk is an access fault.
    csrWrite(cpu, 0x3b0, 0x80003000 / 4, 0);
    csrWrite(cpu, 0x3b1, -1, 0x3fffff);
    csrWrite(cpu, 0x3a0, 0x08 | (0x1f << 8), 0);
    expect(cpu.translate(0x1234, 0, ACC_R, 8)).toBe(-1);
    expect(cpu.csr[CSR_MCAUSE * 2]).toBe(5); // load access fault
    // And allowed again (the fault trapped to M-mode: back to S).
    csrWrite(cpu, 0x3a0, 0x1f, 0);
    csrWrite(cpu, 0x3b0, -1, 0x3fffff);
    cpu.priv = PRV_S;
    expect(cpu.translate(0x1234, 0, ACC_R, 8)).toBe(0x80005234);
    cpu.destroy();
  });

  it('refuses a misaligned superpage', () => {
    const { cpu } = sv39();
    const w = (cpu.as.lookup(0x80002000)!.ramBlock as { i32: Int32Array }).i32;
    // Level-1 leaf (2 MiB) whose PPN is not 2 MiB aligned: page fault.
    w[0x2000 >> 2] = ((0x80003000 / 4096) << 10) | 0xc7;
    expect(cpu.translate(0x1234, 0, ACC_R, 8)).toBe(-1);
    expect(cpu.csr[CSR_MCAUSE * 2]).toBe(13); // load page fault
    // Aligned: the low VPN bits come from the address (the fault trapped to M-mode: back to S).
    w[0x2000 >> 2] = ((0x80200000 / 4096) << 10) | 0xc7;
    cpu.priv = PRV_S;
    expect(cpu.translate(0x1234, 0, ACC_R, 8)).toBe(0x80201234);
    cpu.destroy();
  });
});

describe('run loop', () => {
  it('keeps the event loop responsive while the guest spins, and sleeps in WFI', async () => {
    // loop: j loop
    const busy = machine([0x0000006f]);
    const loop = new CpuRunLoop([busy.cpu], { sliceMs: 4 });
    loop.start();
    await new Promise((r) => setTimeout(r, 300)); // let the JIT warm up
    const lat: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await new Promise((r) => setTimeout(r, 0));
      lat.push(performance.now() - t);
    }
    loop.stop();
    lat.sort((a, b) => a - b);
    // p95: other test files share the two cores, so the very last sample is noisy
    expect(lat[Math.floor(lat.length * 0.95)], lat.join(',')).toBeLessThan(20);
    expect(loop.executed).toBeGreaterThan(10_000);
    busy.cpu.destroy();

    // wfi; j -4: idle guest executes almost nothing while waiting
    const idle = machine([0x10500073, 0xffdff06f]);
    const l2 = new CpuRunLoop([idle.cpu]);
    l2.start();
    await new Promise((r) => setTimeout(r, 100));
    l2.stop();
    expect(l2.executed).toBeLessThan(10);
    idle.cpu.destroy();
  });
});
