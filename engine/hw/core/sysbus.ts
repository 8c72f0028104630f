/**
 * System bus (hw/core/sysbus.c): "main-system-bus" of type "System", the root of the qdev tree, and
 * "sys-bus-device", devices wired by the board through MMIO regions and IRQ lines rather than a
 * bus protocol. Mapping regions into the address space is the memory layer's job: it installs a
 * mapper with `setSysbusMmioMapper`; here we record addresses for `info qtree`.
 */
import type { QomObject } from '../../qom/object.js';
import { typeRegister, objectCheck, objectPropertyAddChild, onQomRootReset } from '../../qom/object.js';
import {
  BusClass,
  BusState,
  DeviceClass,
  DeviceState,
  TYPE_BUS,
  TYPE_DEVICE,
  qbusNew,
  qdevInitGpioOutNamed,
  qdevConnectGpioOutNamed,
  qdevGetMachine,
} from './qdev-core.js';
import type { IRQState } from './irq.js';
import { containerGet } from '../../qom/object.js';

export const TYPE_SYSTEM_BUS = 'System';
export const TYPE_SYS_BUS_DEVICE = 'sys-bus-device';
export const SYSBUS_DEVICE_GPIO_IRQ = 'sysbus-irq';
export const QDEV_MAX_MMIO = 32;

/** What sysbus needs from a memory region; the memory layer's MemoryRegion satisfies it. */
export interface SysBusMemoryRegion {
  readonly size: bigint | number;
}

export interface SysBusMmio {
  /** Guest address, or 2^64-1 while unmapped (QEMU prints ffffffffffffffff). */
  addr: bigint;
  memory: SysBusMemoryRegion;
}

export class SysBusDevice extends DeviceState {
  mmio: SysBusMmio[] = [];
  pio: number[] = [];
  /** One-element pin arrays, one per sysbus_init_irq. */
  irqs: (IRQState | null)[][] = [];

  get numMmio(): number {
    return this.mmio.length;
  }
}

export class SysBusDeviceClass extends DeviceClass {}

export const SYS_BUS_DEVICE = (o: QomObject) => objectCheck<SysBusDevice>(o, TYPE_SYS_BUS_DEVICE);

const UNMAPPED = (1n << 64n) - 1n;

type Mapper = (dev: SysBusDevice, n: number, addr: bigint, priority: number, mr: SysBusMemoryRegion) => void;
let mapper: Mapper | null = null;

/** The memory layer plugs mapping of MMIO regions into the system address space here. */
export function setSysbusMmioMapper(fn: Mapper | null): void {
  mapper = fn;
}

export function sysbusInitMmio(dev: SysBusDevice, memory: SysBusMemoryRegion): number {
  if (dev.mmio.length >= QDEV_MAX_MMIO) throw new Error('too many sysbus mmio regions');
  dev.mmio.push({ addr: UNMAPPED, memory });
  return dev.mmio.length - 1;
}

export function sysbusMmioMap(dev: SysBusDevice, n: number, addr: bigint | number, priority = 0): void {
  const m = dev.mmio[n];
  if (!m) throw new Error(`sysbus mmio region ${n} does not exist`);
  m.addr = BigInt(addr);
  mapper?.(dev, n, m.addr, priority, m.memory);
}

export function sysbusMmioGetRegion(dev: SysBusDevice, n: number): SysBusMemoryRegion {
  const m = dev.mmio[n];
  if (!m) throw new Error(`sysbus mmio region ${n} does not exist`);
  return m.memory;
}

/** sysbus_init_irq(): one output line; the device raises it with qemuSetIrq(pins[0], level). */
export function sysbusInitIrq(dev: SysBusDevice): (IRQState | null)[] {
  const pins: (IRQState | null)[] = [null];
  qdevInitGpioOutNamed(dev, pins, SYSBUS_DEVICE_GPIO_IRQ, 1);
  dev.irqs.push(pins);
  return pins;
}

export function sysbusConnectIrq(dev: SysBusDevice, n: number, irq: IRQState | null): void {
  qdevConnectGpioOutNamed(dev, SYSBUS_DEVICE_GPIO_IRQ, n, irq);
}

export function sysbusInitIoports(dev: SysBusDevice, base: number, size: number): void {
  for (let i = 0; i < size; i++) dev.pio.push(base + i);
}

let mainSystemBus: BusState | null = null;

/** sysbus_get_default(): the main system bus, created on first use. */
export function sysbusGetDefault(): BusState {
  if (!mainSystemBus) mainSystemBus = qbusNew(TYPE_SYSTEM_BUS, null, 'main-system-bus');
  return mainSystemBus;
}

/** Put main-system-bus into the tree as /machine/unattached/sysbus (qemu_create_machine does this). */
export function sysbusAttachToMachine(): void {
  const bus = sysbusGetDefault();
  if (!bus.parent) objectPropertyAddChild(containerGet(qdevGetMachine(), '/unattached'), 'sysbus', bus);
}

onQomRootReset(() => {
  mainSystemBus = null;
});

const hex16 = (v: bigint) => v.toString(16).padStart(16, '0');

typeRegister<BusState, BusClass>({
  name: TYPE_SYSTEM_BUS,
  parent: TYPE_BUS,
  instance: BusState,
  classInit(bc) {
    bc.printDev = (dev, indent) => {
      const s = dev as SysBusDevice;
      return s.mmio
        .map((m) => `${' '.repeat(indent)}mmio ${hex16(m.addr)}/${hex16(BigInt(m.memory.size))}\n`)
        .join('');
    };
    bc.getFwDevPath = (dev) => {
      const s = dev as SysBusDevice;
      const name = (dev.class as DeviceClass).fwName ?? dev.class.type.name;
      if (s.mmio.length) return `${name}@${s.mmio[0]!.addr.toString(16)}`;
      if (s.pio.length) return `${name}@i${s.pio[0]!.toString(16).padStart(4, '0')}`;
      return name;
    };
  },
});

typeRegister<SysBusDevice, SysBusDeviceClass>({
  name: TYPE_SYS_BUS_DEVICE,
  parent: TYPE_DEVICE,
  abstract: true,
  instance: SysBusDevice,
  class: SysBusDeviceClass,
  classInit(k) {
    k.busType = TYPE_SYSTEM_BUS;
    // device_add can only create unconnected sysbus devices; boards wire them (QEMU: not user creatable)
    k.userCreatable = false;
  },
});
