/**
 * The hart's VMState: every architectural register round-trips, the stream is stable (save -> load
 * -> save gives the same bytes), and loading rebuilds the caches (TLBs, PMP ranges, interrupt check).
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace, MemoryRegion } from '../../engine/system/memory.js';
import { RiscvCpu, TLB_EMPTY } from '../../engine/target/riscv/cpu.js';
import {
  CSR_MCAUSE,
  CSR_MIE,
  CSR_MIP,
  CSR_MTVEC,
  CSR_MSTATUS,
  CSR_PMPADDR0,
  CSR_SATP,
  PRV_S,
} from '../../engine/target/riscv/cpu-state.js';
import { vmstateRiscvCpu } from '../../engine/target/riscv/machine.js';
import {
  vmstateDescribe,
  vmstateLoadFromBytes,
  vmstateSaveToBytes,
  vmdescToJson,
} from '../../engine/migration/vmstate.js';

function hart(): { core: RiscvCpu; as: AddressSpace } {
  const sys = MemoryRegion.container('system', 2 ** 64);
  sys.addSubregion(0x80000000, MemoryRegion.ram('ram', 0x10000));
  const as = new AddressSpace(sys, 'memory');
  // addi x5, x0, 7 ; addi x6, x5, 1 ; wfi-free loop: jal x0, 0
  const core = new RiscvCpu({ as, resetvec: 0x80000000 });
  const i32 = as.lookup(0x80000000)!.mr.ramBlock!.i32;
  i32.set([0x00700293, 0x00128313, 0x0000006f]);
  return { core, as };
}

describe('RISC-V hart VMState', () => {
  it('round-trips every register and is byte-stable', () => {
    const { core } = hart();
    core.run(50);
    core.setX(31, -2n);
    core.f.set([1, -1, 2, 3]);
    core.csr[CSR_SATP * 2 + 1] = 0x80000000 | 0;
    core.csr[(CSR_PMPADDR0 + 3) * 2] = 0x12345;
    core.pmp.cfg[3] = 0x1f;
    core.priv = PRV_S;
    core.resAddr = 0x80001000;
    core.resValLo = 5;
    core.wfi = true;
    const a = { core };
    const bytes = vmstateSaveToBytes(vmstateRiscvCpu, a);
    const { core: other } = hart();
    vmstateLoadFromBytes(vmstateRiscvCpu, { core: other }, bytes);
    expect(other.getX(5)).toBe(7n);
    expect(other.getX(6)).toBe(8n);
    expect(other.getX(31)).toBe(-2n);
    expect(other.pc).toBe(core.pc);
    expect([...other.f.subarray(0, 4)]).toEqual([1, -1, 2, 3]);
    expect([...other.csr]).toEqual([...core.csr]);
    expect(other.pmp.cfg[3]).toBe(0x1f);
    expect(other.priv).toBe(PRV_S);
    expect(other.resAddr).toBe(0x80001000);
    expect(other.wfi).toBe(true);
    expect(other.instret).toBe(core.instret);
    expect(Buffer.from(vmstateSaveToBytes(vmstateRiscvCpu, { core: other })).equals(Buffer.from(bytes))).toBe(
      true,
    );
  });

  it('loading rebuilds caches: TLBs flushed, PMP ranges recomputed, interrupts re-checked, x0 stays 0', () => {
    const { core } = hart();
    core.run(10);
    const saved = vmstateSaveToBytes(vmstateRiscvCpu, { core });
    // Warm the TLBs, then make the stream's x0 non-zero to check the loader keeps x0 = 0.
    core.run(10);
    expect(
      core.tlbs.some((set) => set.some((t) => t.tag.some((v, i) => i % 2 === 0 && v !== TLB_EMPTY))),
    ).toBe(true);
    const tampered = Uint8Array.from(saved);
    tampered[7] = 1; // low byte of env.gpr[0]
    core.attn = 0;
    vmstateLoadFromBytes(vmstateRiscvCpu, { core }, tampered);
    expect(core.getX(0)).toBe(0n);
    expect(
      core.tlbs.every((set) => set.every((t) => t.tag.every((v, i) => i % 2 === 1 || v === TLB_EMPTY))),
    ).toBe(true);
    expect(core.attn).toBe(1);
  });

  it('a pending, enabled interrupt in the restored mip/mie is taken after load', () => {
    const { core } = hart();
    core.csr[CSR_MSTATUS * 2] |= 1 << 3; // MIE
    core.csr[CSR_MIE * 2] = 1 << 7;
    core.csr[CSR_MIP * 2] = 1 << 7; // MTIP, as the CLINT drove it at save time
    core.csr[CSR_MTVEC * 2] = 0x80000008 | 0;
    const bytes = vmstateSaveToBytes(vmstateRiscvCpu, { core });
    const { core: other } = hart();
    vmstateLoadFromBytes(vmstateRiscvCpu, { core: other }, bytes);
    other.run(1);
    expect(other.csrLo(CSR_MCAUSE)).toBe(7);
    expect(other.csrHi(CSR_MCAUSE) >>> 0).toBe(0x80000000);
    expect(other.pc).toBe(0x80000008n);
  });

  it('describes the registers with QEMU names', () => {
    const { core } = hart();
    const json = vmdescToJson(vmstateDescribe(vmstateRiscvCpu, { core }));
    expect(json).toContain('{"name": "env.gpr", "array_len": 32, "type": "uint64", "size": 8}');
    expect(json).toContain('{"name": "env.mstatus", "type": "uint64", "size": 8}');
    expect(json).toContain('{"name": "env.pmpcfg", "array_len": 16, "type": "uint8", "size": 1}');
  });
});
