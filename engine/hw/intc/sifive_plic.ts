/**
 * SiFive PLIC (QEMU's hw/intc/sifive_plic.c), as the `virt` board configures it: 96 sources (0 is
 * reserved), 7 priority levels, one context per hart and privilege listed in hart-config ("MS" per
 * hart: context 2h is hart h's M mode, 2h+1 its S mode).
 *
 * Register map (offsets configurable by properties, defaults below): source priorities from
 * priority-base (source s at priority-base + (s-1)*4), pending bits at pending-base, per-context
 * enable words at enable-base + ctx*enable-stride, and per context at context-base + ctx*context-stride
 * the threshold (+0) and claim/complete (+4) registers.
 *
 * Sources follow their input line (pending = level, as QEMU 7.2 does). A context's output is high
 * while some enabled, pending, unclaimed source has a priority above its threshold. Claim returns the
 * highest-priority such source (lowest id on ties), clears its pending bit and marks it claimed until
 * the handler writes the id back (complete).
 */
import type { QomObject } from '../../qom/object.js';
import { typeRegister, objectCheck } from '../../qom/object.js';
import {
  DeviceClass,
  qdevInitGpioIn,
  qdevConnectGpioOut,
  qdevGetGpioIn,
  qdevNew,
} from '../core/qdev-core.js';
import { deviceClassSetProps, definePropString, definePropUint32 } from '../core/qdev-properties.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { type IRQState, qemuSetIrq } from '../core/irq.js';
import type { MemoryRegion } from '../../system/memory.js';
import { errorSetg } from '../../qapi/error.js';
import type { VMStateDescription } from '../../migration/vmstate-types.js';
import { IRQ_M_EXT, IRQ_S_EXT } from '../../target/riscv/cpu-state.js';
import { intcInitGpioOut, intcInitMmio, intcRealizeAndWire } from './intc-device.js';

export const TYPE_SIFIVE_PLIC = 'riscv.sifive.plic';

export type PlicMode = 'U' | 'S' | 'H' | 'M';

export interface PlicAddr {
  addrid: number;
  hartid: number;
  mode: PlicMode;
}

export class SiFivePlicState extends SysBusDevice {
  hartConfig: string | null = null;
  hartidBase = 0;
  numSources = 0;
  numPriorities = 0;
  priorityBase = 0;
  pendingBase = 0;
  enableBase = 0;
  enableStride = 0;
  contextBase = 0;
  contextStride = 0;
  apertureSize = 0;

  numAddrs = 0;
  numHarts = 0;
  bitfieldWords = 0;
  numEnables = 0;
  addrConfig: PlicAddr[] = [];
  sourcePriority = new Uint32Array(0);
  targetPriority = new Uint32Array(0);
  pending = new Uint32Array(0);
  claimed = new Uint32Array(0);
  enable = new Uint32Array(0);
  mExternalIrqs: (IRQState | null)[] = [];
  sExternalIrqs: (IRQState | null)[] = [];
  iomem: MemoryRegion | null = null;

  setPending(irq: number, level: boolean): void {
    const w = irq >>> 5;
    const b = 1 << (irq & 31);
    this.pending[w] = level ? this.pending[w]! | b : this.pending[w]! & ~b;
  }

  setClaimed(irq: number, level: boolean): void {
    const w = irq >>> 5;
    const b = 1 << (irq & 31);
    this.claimed[w] = level ? this.claimed[w]! | b : this.claimed[w]! & ~b;
  }

  /** sifive_plic_claimed(): best source for context `addrid` above its threshold, or 0. */
  bestIrq(addrid: number): number {
    let maxIrq = 0;
    let maxPrio = this.targetPriority[addrid]!;
    for (let i = 0; i < this.bitfieldWords; i++) {
      const candidates = this.pending[i]! & ~this.claimed[i]! & this.enable[addrid * this.bitfieldWords + i]!;
      if (!candidates) continue;
      for (let j = 0; j < 32; j++) {
        const irq = i * 32 + j;
        if (irq >= this.numSources) break;
        if (!((candidates >>> j) & 1)) continue;
        const prio = this.sourcePriority[irq]!;
        if (prio > maxPrio) {
          maxIrq = irq;
          maxPrio = prio;
        }
      }
    }
    return maxIrq;
  }

  /** sifive_plic_update(): drive every context's output. */
  update(): void {
    for (let addrid = 0; addrid < this.numAddrs; addrid++) {
      const { hartid, mode } = this.addrConfig[addrid]!;
      const level = this.bestIrq(addrid) !== 0 ? 1 : 0;
      const idx = hartid - this.hartidBase;
      if (mode === 'M') qemuSetIrq(this.mExternalIrqs[idx] ?? null, level);
      else if (mode === 'S') qemuSetIrq(this.sExternalIrqs[idx] ?? null, level);
    }
  }

  read(addr: number): number {
    if (addr >= this.priorityBase && addr < this.priorityBase + (this.numSources << 2)) {
      const irq = ((addr - this.priorityBase) >>> 2) + 1;
      return irq < this.numSources ? this.sourcePriority[irq]! : 0;
    }
    if (addr >= this.pendingBase && addr < this.pendingBase + (this.numSources >>> 3)) {
      return this.pending[(addr - this.pendingBase) >>> 2]!;
    }
    if (addr >= this.enableBase && addr < this.enableBase + this.numAddrs * this.enableStride) {
      const addrid = Math.floor((addr - this.enableBase) / this.enableStride);
      const wordid = ((addr - this.enableBase) & (this.enableStride - 1)) >>> 2;
      return wordid < this.bitfieldWords ? this.enable[addrid * this.bitfieldWords + wordid]! : 0;
    }
    if (addr >= this.contextBase && addr < this.contextBase + this.numAddrs * this.contextStride) {
      const addrid = Math.floor((addr - this.contextBase) / this.contextStride);
      const reg = addr & (this.contextStride - 1);
      if (reg === 0) return this.targetPriority[addrid]!;
      if (reg === 4) {
        const irq = this.bestIrq(addrid);
        if (irq) {
          this.setPending(irq, false);
          this.setClaimed(irq, true);
        }
        this.update();
        return irq;
      }
    }
    return 0;
  }

  write(addr: number, value: number): void {
    value >>>= 0;
    if (addr >= this.priorityBase && addr < this.priorityBase + (this.numSources << 2)) {
      const irq = ((addr - this.priorityBase) >>> 2) + 1;
      if (irq >= this.numSources) return;
      const np = this.numPriorities;
      // num-priorities + 1 a power of two: every priority bit is WARL; otherwise reject big values.
      if (((np + 1) & np) === 0) this.sourcePriority[irq] = value & np;
      else if (value <= np) this.sourcePriority[irq] = value;
      this.update();
      return;
    }
    if (addr >= this.pendingBase && addr < this.pendingBase + (this.numSources >>> 3)) {
      return; // pending bits are read-only
    }
    if (addr >= this.enableBase && addr < this.enableBase + this.numAddrs * this.enableStride) {
      const addrid = Math.floor((addr - this.enableBase) / this.enableStride);
      const wordid = ((addr - this.enableBase) & (this.enableStride - 1)) >>> 2;
      if (wordid < this.bitfieldWords) {
        this.enable[addrid * this.bitfieldWords + wordid] = value;
        this.update();
      }
      return;
    }
    if (addr >= this.contextBase && addr < this.contextBase + this.numAddrs * this.contextStride) {
      const addrid = Math.floor((addr - this.contextBase) / this.contextStride);
      const reg = addr & (this.contextStride - 1);
      if (reg === 0) {
        if (value <= this.numPriorities) {
          this.targetPriority[addrid] = value;
          this.update();
        }
      } else if (reg === 4) {
        if (value < this.numSources) {
          this.setClaimed(value, false);
          this.update();
        }
      }
    }
  }
}

export const SIFIVE_PLIC = (o: QomObject) => objectCheck<SiFivePlicState>(o, TYPE_SIFIVE_PLIC);

/** parse_hart_config(): "MS,MS" -> contexts in order; only M and S are accepted here. */
export function parsePlicHartConfig(
  config: string,
  hartidBase: number,
): { addrs: PlicAddr[]; numHarts: number } {
  const addrs: PlicAddr[] = [];
  const harts = config.split(',');
  harts.forEach((modes, h) => {
    const seen = new Set<string>();
    for (const m of modes) {
      if (!'MS'.includes(m) || seen.has(m)) throw errorSetg(`plic: invalid mode '${m}'`);
      seen.add(m);
    }
    // Contexts of a hart are listed in M, S order whatever the string's order.
    for (const m of ['M', 'S'] as const)
      if (seen.has(m)) addrs.push({ addrid: addrs.length, hartid: hartidBase + h, mode: m });
  });
  return { addrs, numHarts: harts.length };
}

export const vmstateSifivePlic: VMStateDescription = {
  name: 'riscv_sifive_plic',
  versionId: 1,
  minimumVersionId: 1,
  fields: [
    { name: 'numSources', kind: 'uint32' },
    { name: 'sourcePriority', kind: 'varray', elem: 'uint32', lengthField: 'numSources' },
    { name: 'numAddrs', kind: 'uint32' },
    { name: 'targetPriority', kind: 'varray', elem: 'uint32', lengthField: 'numAddrs' },
    { name: 'bitfieldWords', kind: 'uint32' },
    { name: 'pending', kind: 'varray', elem: 'uint32', lengthField: 'bitfieldWords' },
    { name: 'claimed', kind: 'varray', elem: 'uint32', lengthField: 'bitfieldWords' },
    { name: 'numEnables', kind: 'uint32' },
    { name: 'enable', kind: 'varray', elem: 'uint32', lengthField: 'numEnables' },
  ],
  postLoad(s: SiFivePlicState) {
    if (s.sourcePriority.length !== s.numSources || s.enable.length !== s.numEnables) {
      throw errorSetg('riscv_sifive_plic: configuration mismatch');
    }
    s.update();
  },
};

typeRegister<SiFivePlicState, DeviceClass>({
  name: TYPE_SIFIVE_PLIC,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: SiFivePlicState,
  classInit(dc) {
    deviceClassSetProps(dc, [
      definePropString('hart-config', 'hartConfig'),
      definePropUint32('hartid-base', 'hartidBase', 0),
      definePropUint32('num-sources', 'numSources', 0),
      definePropUint32('num-priorities', 'numPriorities', 0),
      definePropUint32('priority-base', 'priorityBase', 0),
      definePropUint32('pending-base', 'pendingBase', 0),
      definePropUint32('enable-base', 'enableBase', 0),
      definePropUint32('enable-stride', 'enableStride', 0),
      definePropUint32('context-base', 'contextBase', 0),
      definePropUint32('context-stride', 'contextStride', 0),
      definePropUint32('aperture-size', 'apertureSize', 0),
    ]);
    dc.vmsd = vmstateSifivePlic;
    dc.realize = (dev) => {
      const s = dev as SiFivePlicState;
      const { addrs, numHarts } = parsePlicHartConfig(s.hartConfig ?? '', s.hartidBase);
      s.addrConfig = addrs;
      s.numAddrs = addrs.length;
      s.numHarts = numHarts;
      s.bitfieldWords = (s.numSources + 31) >>> 5;
      s.numEnables = s.bitfieldWords * s.numAddrs;
      s.sourcePriority = new Uint32Array(s.numSources);
      s.targetPriority = new Uint32Array(s.numAddrs);
      s.pending = new Uint32Array(s.bitfieldWords);
      s.claimed = new Uint32Array(s.bitfieldWords);
      s.enable = new Uint32Array(s.numEnables);
      s.iomem = intcInitMmio(s, TYPE_SIFIVE_PLIC, s.apertureSize, 4, s);
      qdevInitGpioIn(
        s,
        (_o, irq, level) => {
          s.setPending(irq, level > 0);
          s.update();
        },
        s.numSources,
      );
      s.mExternalIrqs = intcInitGpioOut(s, numHarts);
      s.sExternalIrqs = intcInitGpioOut(s, numHarts);
    };
    dc.reset = (dev) => {
      const s = dev as SiFivePlicState;
      for (const a of [s.sourcePriority, s.targetPriority, s.pending, s.claimed, s.enable]) a.fill(0);
      s.update();
    };
  },
});

/** sifive_plic_create(): create, map, wire each hart's MEIP/SEIP to the contexts hart-config lists. */
export function sifivePlicCreate(
  addr: number,
  hartConfig: string,
  numHarts: number,
  hartidBase: number,
  numSources: number,
  numPriorities: number,
  priorityBase: number,
  pendingBase: number,
  enableBase: number,
  enableStride: number,
  contextBase: number,
  contextStride: number,
  apertureSize: number,
): SiFivePlicState {
  const dev = qdevNew<SiFivePlicState>(TYPE_SIFIVE_PLIC);
  dev.hartConfig = hartConfig;
  dev.hartidBase = hartidBase;
  dev.numSources = numSources;
  dev.numPriorities = numPriorities;
  dev.priorityBase = priorityBase;
  dev.pendingBase = pendingBase;
  dev.enableBase = enableBase;
  dev.enableStride = enableStride;
  dev.contextBase = contextBase;
  dev.contextStride = contextStride;
  dev.apertureSize = apertureSize;
  return intcRealizeAndWire(dev, addr, 'plic', hartidBase, numHarts, (cpu, i) => {
    const hasM = dev.addrConfig.some((a) => a.hartid === cpu.hartid && a.mode === 'M');
    const hasS = dev.addrConfig.some((a) => a.hartid === cpu.hartid && a.mode === 'S');
    if (hasM) qdevConnectGpioOut(dev, i, qdevGetGpioIn(cpu, IRQ_M_EXT));
    if (hasS) qdevConnectGpioOut(dev, numHarts + i, qdevGetGpioIn(cpu, IRQ_S_EXT));
  });
}

/** The virt board's hart-config: "MS" for every hart, comma separated. */
export function plicHartConfigString(numHarts: number): string {
  return Array.from({ length: numHarts }, () => 'MS').join(',');
}
