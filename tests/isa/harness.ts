/**
 * A minimal spike-like test machine for the ISA tests, until the real `spike` machine exists on
 * QOM: RAM at 0x80000000, a CLINT (msip / mtimecmp / mtime at spike's offsets) at 0x2000000, and
 * HTIF tohost/fromhost overlaid on RAM where the ELF's symbols put them (as QEMU does).
 *
 * Time is virtual and deterministic: mtime advances one tick per 8 retired instructions, and jumps
 * to the next mtimecmp when the hart sleeps in WFI, so runs are reproducible.
 */
import { readFileSync } from 'node:fs';
import { AddressSpace, MemoryRegion, io64, type MemoryRegionOps } from '../../engine/system/memory.js';
import { RiscvCpu, type TimeSource } from '../../engine/target/riscv/cpu.js';
import { IRQ_M_SOFT, IRQ_M_TIMER } from '../../engine/target/riscv/cpu-state.js';

export interface ElfImage {
  entry: bigint;
  segments: Array<{ paddr: number; data: Uint8Array; memsz: number }>;
  symbols: Map<string, bigint>;
}

/** Parse the parts of an ELF64 little-endian executable we need. */
export function parseElf(buf: Uint8Array): ElfImage {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, false) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1)
    throw new Error('not an ELF64 LE file');
  const entry = dv.getBigUint64(24, true);
  const phoff = Number(dv.getBigUint64(32, true));
  const shoff = Number(dv.getBigUint64(40, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  const segments: ElfImage['segments'] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== 1) continue; // PT_LOAD
    const off = Number(dv.getBigUint64(p + 8, true));
    const paddr = Number(dv.getBigUint64(p + 24, true));
    const filesz = Number(dv.getBigUint64(p + 32, true));
    const memsz = Number(dv.getBigUint64(p + 40, true));
    segments.push({ paddr, data: buf.subarray(off, off + filesz), memsz });
  }
  const symbols = new Map<string, bigint>();
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    if (dv.getUint32(s + 4, true) !== 2) continue; // SHT_SYMTAB
    const off = Number(dv.getBigUint64(s + 24, true));
    const size = Number(dv.getBigUint64(s + 32, true));
    const link = dv.getUint32(s + 40, true);
    const entsize = Number(dv.getBigUint64(s + 56, true));
    const strOff = Number(dv.getBigUint64(shoff + link * shentsize + 24, true));
    for (let e = off; e < off + size; e += entsize) {
      const nameOff = dv.getUint32(e, true);
      let end = strOff + nameOff;
      while (buf[end] !== 0) end++;
      const name = new TextDecoder().decode(buf.subarray(strOff + nameOff, end));
      if (name) symbols.set(name, dv.getBigUint64(e + 8, true));
    }
  }
  return { entry, segments, symbols };
}

export interface RunResult {
  /** HTIF exit code, or null if the program did not finish. */
  exitCode: number | null;
  output: string;
  instructions: number;
}

export class SpikeHarness {
  readonly system = MemoryRegion.container('system', 2 ** 64);
  readonly as: AddressSpace;
  readonly cpu: RiscvCpu;
  /** Guest RAM at 0x80000000 (tests compare its contents between runs). */
  readonly ram: MemoryRegion;
  output = '';
  exitCode: number | null = null;
  private tohost = [0, 0];
  private fromhost = [0, 0];
  private mtimecmp = Number.MAX_SAFE_INTEGER;
  private msip = 0;
  private timeSkip = 0;

  constructor(elf: ElfImage, ramSize = 16 << 20) {
    const ram = (this.ram = MemoryRegion.ram('riscv.spike.ram', ramSize));
    this.system.addSubregion(0x80000000, ram);
    this.system.addSubregion(0x2000000, MemoryRegion.io('riscv.aclint.clint', 0x10000, this.clintOps()));
    const to = elf.symbols.get('tohost');
    const from = elf.symbols.get('fromhost');
    if (to !== undefined && from !== undefined) {
      const base = Number(to < from ? to : from);
      const size = Math.max(Number(to), Number(from)) + 8 - base;
      this.system.addSubregionOverlap(
        base,
        MemoryRegion.io('riscv.htif.uart', size, this.htifOps(Number(to) - base, Number(from) - base)),
        1,
      );
    }
    this.as = new AddressSpace(this.system, 'memory');
    for (const s of elf.segments) {
      const data = new Uint8Array(s.memsz);
      data.set(s.data);
      if (!this.as.writeBytes(s.paddr, data))
        throw new Error(`ELF segment at 0x${s.paddr.toString(16)} is outside RAM`);
    }
    const time: TimeSource = { frequency: 10_000_000, ticks: () => this.mtime() };
    this.cpu = new RiscvCpu({ as: this.as, time, resetvec: Number(elf.entry) });
  }

  static fromFile(path: string): SpikeHarness {
    return new SpikeHarness(parseElf(new Uint8Array(readFileSync(path))));
  }

  mtime(): number {
    return Math.floor(this.cpu.retired() / 8) + this.timeSkip;
  }

  private clintOps(): MemoryRegionOps {
    return {
      read: (off, size) => {
        if (off === 0) return this.msip;
        if (off === 0x4000 || off === 0xbff8) {
          const v = off === 0x4000 ? this.mtimecmp : this.mtime();
          const hi = Math.floor(v / 4294967296);
          io64.hi = hi >>> 0;
          return (v - hi * 4294967296) >>> 0;
        }
        if (off === 0x4004 || off === 0xbffc) {
          const v = off === 0x4004 ? this.mtimecmp : this.mtime();
          return Math.floor(v / 4294967296) >>> 0;
        }
        void size;
        return 0;
      },
      write: (off, value, size, hi) => {
        if (off === 0) {
          this.msip = value & 1;
          this.cpu.setIrqLine(IRQ_M_SOFT, this.msip !== 0);
        } else if (off === 0x4000) {
          const cur = Math.floor(this.mtimecmp / 4294967296);
          this.mtimecmp = (size === 8 ? hi >>> 0 : cur) * 4294967296 + (value >>> 0);
        } else if (off === 0x4004) {
          this.mtimecmp = (value >>> 0) * 4294967296 + (this.mtimecmp % 4294967296);
        }
        this.updateTimer();
      },
      impl: { minAccessSize: 4, maxAccessSize: 8 },
      valid: { minAccessSize: 4, maxAccessSize: 8 },
    };
  }

  private updateTimer(): void {
    this.cpu.setIrqLine(IRQ_M_TIMER, this.mtime() >= this.mtimecmp);
  }

  private htifOps(toOff: number, fromOff: number): MemoryRegionOps {
    return {
      read: (off) => {
        if (off === toOff) return this.tohost[0];
        if (off === toOff + 4) return this.tohost[1];
        if (off === fromOff) return this.fromhost[0];
        if (off === fromOff + 4) return this.fromhost[1];
        return 0;
      },
      write: (off, value) => {
        if (off === toOff) this.tohost = [value >>> 0, 0];
        else if (off === toOff + 4) {
          this.tohost[1] = value >>> 0;
          this.handleTohost();
        } else if (off === fromOff) this.fromhost[0] = value >>> 0;
        else if (off === fromOff + 4) this.fromhost[1] = value >>> 0;
      },
    };
  }

  private handleTohost(): void {
    const [lo, hi] = this.tohost;
    const device = hi >>> 24;
    const cmd = (hi >>> 16) & 0xff;
    if (device === 0 && cmd === 0 && lo & 1) {
      this.exitCode = Math.floor(((hi & 0xffff) * 4294967296 + lo) / 2);
      this.cpu.exitReq = true;
      this.cpu.attn = 1;
    } else if (device === 1 && cmd === 1) {
      this.output += String.fromCharCode(lo & 0xff);
    }
    this.fromhost = [0x100 | (lo & 0xff), hi & 0xffff0000];
    this.tohost = [0, 0];
  }

  /** Run until the program exits through HTIF or `maxInstructions` have run. */
  run(maxInstructions = 50_000_000): RunResult {
    let total = 0;
    while (this.exitCode === null && total < maxInstructions) {
      this.updateTimer();
      const n = this.cpu.run(Math.min(10_000, maxInstructions - total));
      total += n;
      if (this.cpu.wfi && !this.cpu.wakeable()) {
        // Sleep: jump virtual time to the timer deadline (or give up if nothing can wake us).
        const now = this.mtime();
        if (this.mtimecmp > now && this.mtimecmp < Number.MAX_SAFE_INTEGER)
          this.timeSkip += this.mtimecmp - now;
        else if (this.cpu.nextTimerTicks() < Infinity && this.cpu.nextTimerTicks() > now)
          this.timeSkip += this.cpu.nextTimerTicks() - now;
        else break;
      }
    }
    return { exitCode: this.exitCode, output: this.output, instructions: total };
  }

  destroy(): void {
    this.cpu.destroy();
    this.as.destroy();
  }
}
