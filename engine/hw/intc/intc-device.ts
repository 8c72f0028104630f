/**
 * Device plumbing the RISC-V interrupt controllers (ACLINT MSWI/MTIMER, SiFive PLIC) share: their one
 * register block, their output lines and the board helpers' wiring to each hart. Kept here so each
 * controller's file holds only its registers' behaviour.
 */
import { qdevInitGpioOut, qdevRealizeAndUnref } from '../core/qdev-core.js';
import { SysBusDevice, sysbusInitMmio, sysbusMmioMap, sysbusGetDefault } from '../core/sysbus.js';
import type { IRQState } from '../core/irq.js';
import { MemoryRegion } from '../../system/memory.js';
import { cpuByArchId, type RiscvCpuState } from '../riscv/riscv_hart.js';

/** The register callbacks of a controller (an 8-byte access passes its high word as `hi`). */
export interface IntcRegisters {
  read(addr: number, size: number): number;
  write(addr: number, value: number, size: number, hi: number): void;
}

/**
 * Realize time: the controller's registers as its sysbus MMIO region 0. Accesses must be 4 bytes up to
 * `maxAccessSize` (other sizes fail as in QEMU's .valid), and reach the callbacks at that size.
 */
export function intcInitMmio(
  dev: SysBusDevice,
  name: string,
  size: number,
  maxAccessSize: 4 | 8,
  regs: IntcRegisters,
): MemoryRegion {
  const mr = MemoryRegion.io(name, size, {
    read: (a, sz) => regs.read(a, sz),
    write: (a, v, sz, hi) => regs.write(a, v, sz, hi),
    valid: { minAccessSize: 4, maxAccessSize },
    impl: { minAccessSize: 4, maxAccessSize },
  });
  mr.owner = dev;
  sysbusInitMmio(dev, mr);
  return mr;
}

/** qdev_init_gpio_out() of `n` unconnected lines; the array returned is the one the device drives. */
export function intcInitGpioOut(dev: SysBusDevice, n: number): (IRQState | null)[] {
  const lines = new Array<IRQState | null>(n).fill(null);
  qdevInitGpioOut(dev, lines, n);
  return lines;
}

/** A realized hart, as the board helpers wire it. */
export type RealizedHart = RiscvCpuState & { core: NonNullable<RiscvCpuState['core']> };

/**
 * The common tail of riscv_aclint_*_create() and sifive_plic_create(): realize `dev` on the main system
 * bus, map it at `addr`, then call `wire` for harts hartidBase .. hartidBase+numHarts-1 (index i from 0).
 * A missing hart is a board bug: "<what>: no hart N".
 */
export function intcRealizeAndWire<D extends SysBusDevice>(
  dev: D,
  addr: number,
  what: string,
  hartidBase: number,
  numHarts: number,
  wire: (cpu: RealizedHart, i: number) => void,
): D {
  qdevRealizeAndUnref(dev, sysbusGetDefault());
  sysbusMmioMap(dev, 0, addr);
  for (let i = 0; i < numHarts; i++) {
    const cpu = cpuByArchId(hartidBase + i);
    if (!cpu?.core) throw new Error(`${what}: no hart ${hartidBase + i}`);
    wire(cpu as RealizedHart, i);
  }
  return dev;
}
