/**
 * The hart's VMState (QEMU's target/riscv/machine.c, section "cpu" with instance id = cpu index).
 *
 * The object is the hart device (anything with `core: RiscvCpu`). Field names follow QEMU's
 * ("env.gpr", "env.pc", "env.mstatus", ...) so analyze-migration style tools read them alike; values
 * are written as QEMU writes target_ulong, big-endian 64-bit, from the core's (lo, hi) int32 pairs.
 *
 * Saved: x1..x31 (x0 as 0), f0..f31, pc (the next instruction), privilege, every stored CSR
 * (CSR_SLOT_NAMES, incl. mip, stimecmp, the mcycle/minstret offsets and pmpaddr0..15), pmpcfg, the
 * LR reservation, instructions retired and the WFI state. Nothing derived is saved.
 *
 * After loading (post_load) every cache is rebuilt from that state: PMP ranges recomputed, TLBs
 * flushed, the privilege-dependent TLB selection, FS/SD and the interrupt check (`attn`) re-derived,
 * any pending exit or fault cleared. Decoded instructions are dropped for the whole RAM by the RAM
 * section. mip keeps the bits devices drove at save time; the CLINT/PLIC post_loads re-drive their
 * lines from their own restored state, so both agree, and the run loop re-arms timer deadlines from
 * the restored stimecmp/mtimecmp on its next slice.
 */
import type { VMStateDescription, VMStateField, VMStateInfo } from '../../migration/vmstate-types.js';
import { CSR_SLOT_NAMES, CSR_SLOTS } from './cpu-state.js';
import type { RiscvCpu } from './cpu.js';

interface HartLike {
  core: RiscvCpu | null;
}

function core(obj: HartLike): RiscvCpu {
  if (!obj.core) throw new Error('vmstate: hart is not realized');
  return obj.core;
}

/** n 64-bit registers from (lo, hi) pairs of `arr(core)` starting at pair `first`. */
function pairsInfo(arr: (c: RiscvCpu) => Int32Array, first: number, n: number): VMStateInfo {
  return {
    name: 'uint64',
    size: 8,
    put(out, obj: HartLike) {
      const a = arr(core(obj));
      for (let i = first; i < first + n; i++) {
        out.u32(a[2 * i + 1]! >>> 0);
        out.u32(a[2 * i]! >>> 0);
      }
    },
    get(inp, obj: HartLike) {
      const a = arr(core(obj));
      for (let i = first; i < first + n; i++) {
        a[2 * i + 1] = inp.u32() | 0;
        a[2 * i] = inp.u32() | 0;
      }
    },
  };
}

/** One 64-bit value held as two int32 properties of the core. */
function scalarPairInfo(lo: 'npcLo' | 'resValLo', hi: 'npcHi' | 'resValHi'): VMStateInfo {
  return {
    name: 'uint64',
    size: 8,
    put(out, obj: HartLike) {
      const c = core(obj);
      out.u32(c[hi] >>> 0);
      out.u32(c[lo] >>> 0);
    },
    get(inp, obj: HartLike) {
      const c = core(obj);
      c[hi] = inp.u32() | 0;
      c[lo] = inp.u32() | 0;
    },
  };
}

/** A numeric property of the core as a signed 64-bit value (doubles hold these exactly). */
function numberInfo(prop: 'priv' | 'resAddr' | 'instret', name = 'uint64'): VMStateInfo {
  return {
    name,
    size: 8,
    put(out, obj: HartLike) {
      out.u64(BigInt.asUintN(64, BigInt(Math.trunc(core(obj)[prop]))));
    },
    get(inp, obj: HartLike) {
      core(obj)[prop] = Number(BigInt.asIntN(64, inp.u64()));
    },
  };
}

const pmpcfgInfo: VMStateInfo = {
  name: 'uint8',
  size: 1,
  put: (out, obj: HartLike) => out.bytes(core(obj).pmp.cfg),
  get: (inp, obj: HartLike) => core(obj).pmp.cfg.set(inp.bytes(16)),
};

const wfiInfo: VMStateInfo = {
  name: 'uint32',
  size: 4,
  put: (out, obj: HartLike) => out.u32(core(obj).wfi ? 1 : 0),
  get: (inp, obj: HartLike) => void (core(obj).wfi = inp.u32() !== 0),
};

const csrFields: VMStateField[] = CSR_SLOT_NAMES.slice(0, CSR_SLOTS).map((name, slot) => ({
  name: `env.${name}`,
  kind: 'custom',
  info: pairsInfo((c) => c.csr, slot, 1),
}));

/** Rebuild every cache of the core from its architectural state. */
export function riscvCpuPostLoad(c: RiscvCpu): void {
  c.x[0] = c.x[1] = 0;
  c.setPc(c.npcLo, c.npcHi);
  c.pmp.recompute();
  c.fault = false;
  c.exitReq = false;
  c.sliceN = 0;
  // stateChanged() re-derives the TLB set, FS/SD from mstatus and requests an interrupt check.
  c.stateChanged();
  c.flushTlb();
  c.attn = 1;
}

export const vmstateRiscvCpu: VMStateDescription = {
  name: 'cpu',
  versionId: 1,
  minimumVersionId: 1,
  fields: [
    { name: 'env.gpr', kind: 'custom', length: 32, info: pairsInfo((c) => c.x, 0, 32) },
    { name: 'env.fpr', kind: 'custom', length: 32, info: pairsInfo((c) => c.f, 0, 32) },
    { name: 'env.pc', kind: 'custom', info: scalarPairInfo('npcLo', 'npcHi') },
    { name: 'env.priv', kind: 'custom', info: numberInfo('priv') },
    { name: 'env.load_res', kind: 'custom', info: numberInfo('resAddr') },
    { name: 'env.load_val', kind: 'custom', info: scalarPairInfo('resValLo', 'resValHi') },
    ...csrFields,
    { name: 'env.pmpcfg', kind: 'custom', length: 16, info: pmpcfgInfo },
    { name: 'env.instret', kind: 'custom', info: numberInfo('instret') },
    { name: 'halted', kind: 'custom', info: wfiInfo },
  ],
  postLoad(obj: HartLike) {
    riscvCpuPostLoad(core(obj));
  },
};
