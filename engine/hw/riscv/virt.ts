/**
 * QEMU's RISC-V `virt` board (hw/riscv/virt.c as of QEMU 7.2), without PCIe, flash, fw_cfg and the
 * platform bus (not implemented yet; their device-tree nodes are left out too, except the empty
 * platform-bus node QEMU always emits).
 *
 * Memory map (virt_memmap):
 *   0x00001000 mask ROM (reset vector + fw_dynamic_info)   0x00100000 sifive_test (poweroff/reboot)
 *   0x00101000 goldfish RTC (IRQ 11)                       0x02000000 CLINT: ACLINT MSWI + MTIMER
 *   0x0c000000 PLIC (96 sources, contexts M/S per hart)   0x10000000 NS16550A UART (IRQ 10)
 *   0x10001000 8 virtio-mmio transports, 0x1000 apart (IRQs 1..8)
 *   0x80000000 RAM ("riscv_virt_board.ram", -m)
 *
 * The device tree is built in QEMU's call order, so our DTB decompiles to the same text as QEMU's
 * (node and property order, phandles), except for the missing devices and the ISA string, which
 * describes what our harts implement (no H extension).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errorSetg } from '../../qapi/error.js';
import { defineMachine, MachineState, type MachineClass } from '../core/machine.js';
import { qdevGetGpioIn } from '../core/qdev-core.js';
import { MemoryRegion } from '../../system/memory.js';
import { Fdt } from '../../system/device-tree.js';
import { RiscvHartArrayState, TYPE_RISCV_CPU_BASE64 } from './riscv_hart.js';
import { getSystemMemory } from './machine-memory.js';
import { IRQ_M_EXT, IRQ_S_EXT } from '../../target/riscv/cpu-state.js';
import { plicHartConfigString, sifivePlicCreate } from '../intc/sifive_plic.js';
import { FINISHER_PASS, FINISHER_RESET, sifiveTestCreate } from '../misc/sifive_test.js';
import { goldfishRtcCreate } from '../rtc/goldfish_rtc.js';
import { virtioMmioCreate } from '../virtio/virtio-mmio.js';
import { serialMmInit } from '../char/serial.js';
import { serialHd } from '../char/serial-hds.js';
import { RISCV64_BIOS_BIN } from './boot.js';
import { riscvMachineFinish } from './riscv-machine.js';
import {
  riscvBoardBoot,
  riscvBoardCreateClint,
  riscvBoardCreateHarts,
  riscvBoardCreateMemory,
} from './riscv-board.js';
import {
  riscvFdtAddClint,
  riscvFdtAddCpus,
  riscvFdtAddMemory,
  riscvFdtAddSoc,
  riscvFdtSetRoot,
} from './riscv-fdt.js';

export { RISCV_ISA_STRING } from './riscv-fdt.js';

export const VIRT_CPUS_MAX = 512;

export const VIRT_MEMMAP = {
  debug: { base: 0x0, size: 0x100 },
  mrom: { base: 0x1000, size: 0xf000 },
  test: { base: 0x100000, size: 0x1000 },
  rtc: { base: 0x101000, size: 0x1000 },
  clint: { base: 0x2000000, size: 0x10000 },
  aclintSswi: { base: 0x2f00000, size: 0x4000 },
  pciePio: { base: 0x3000000, size: 0x10000 },
  platformBus: { base: 0x4000000, size: 0x2000000 },
  plic: { base: 0xc000000, size: 0x200000 + VIRT_CPUS_MAX * 2 * 0x1000 },
  uart0: { base: 0x10000000, size: 0x100 },
  virtio: { base: 0x10001000, size: 0x1000 },
  fwCfg: { base: 0x10100000, size: 0x18 },
  flash: { base: 0x20000000, size: 0x4000000 },
  pcieEcam: { base: 0x30000000, size: 0x10000000 },
  pcieMmio: { base: 0x40000000, size: 0x40000000 },
  dram: { base: 0x80000000, size: 0 },
} as const;

export const UART0_IRQ = 10;
export const RTC_IRQ = 11;
export const VIRTIO_IRQ = 1;
export const VIRTIO_COUNT = 8;
export const VIRT_PLATFORM_BUS_IRQ = 64;
export const VIRT_IRQCHIP_NUM_SOURCES = 96;
export const VIRT_PLIC_NUM_PRIORITIES = 7;
export const VIRT_PLIC_PRIORITY_BASE = 0x04;
export const VIRT_PLIC_PENDING_BASE = 0x1000;
export const VIRT_PLIC_ENABLE_BASE = 0x2000;
export const VIRT_PLIC_ENABLE_STRIDE = 0x80;
export const VIRT_PLIC_CONTEXT_BASE = 0x200000;
export const VIRT_PLIC_CONTEXT_STRIDE = 0x1000;
/** UART clock in the device tree (QEMU: 3686400). */
export const UART_CLOCK_FREQ = 3686400;

/** riscv_pmu_generate_fdt_node() with QEMU's default 16 counters. */
const PMU_EVENT_TO_MHPMCOUNTERS = [
  0x01, 0x01, 0x7fff9, 0x02, 0x02, 0x7fffc, 0x10019, 0x10019, 0x7fff8, 0x1001b, 0x1001b, 0x7fff8, 0x10021,
  0x10021, 0x7fff8, 0x00, 0x00, 0x00, 0x00, 0x00,
];

export class RiscvVirtState extends MachineState {
  soc: RiscvHartArrayState | null = null;
  fdt: Fdt | null = null;
  ramRegion: MemoryRegion | null = null;
  mrom: MemoryRegion | null = null;
}

const hex = (n: number) => n.toString(16);

/** create_fdt(): the device tree of the board, in QEMU's call order. */
export function virtCreateFdt(s: RiscvVirtState, cmdline: string | null, rngSeed?: Uint8Array): Fdt {
  const fdt = new Fdt();
  const m = VIRT_MEMMAP;
  riscvFdtSetRoot(fdt, 'riscv-virtio,qemu', 'riscv-virtio');
  riscvFdtAddSoc(fdt);

  // create_fdt_sockets(): one socket.
  const cpus = riscvFdtAddCpus(fdt, s.soc!.harts, 1);
  const intc = cpus.intc;
  let phandle = cpus.phandle;
  riscvFdtAddMemory(fdt, m.dram.base, Number(s.ramSize));
  riscvFdtAddClint(fdt, m.clint.base, m.clint.size, intc);

  const plicPhandle = phandle++;
  const plicName = `/soc/plic@${hex(m.plic.base)}`;
  fdt.addSubnode(plicName);
  fdt.setpropCell(plicName, '#interrupt-cells', 1);
  fdt.setpropCell(plicName, '#address-cells', 0);
  fdt.setpropStringArray(plicName, 'compatible', ['sifive,plic-1.0.0', 'riscv,plic0']);
  fdt.setpropEmpty(plicName, 'interrupt-controller');
  fdt.setpropCells(plicName, 'interrupts-extended', ...intc.flatMap((p) => [p, IRQ_M_EXT, p, IRQ_S_EXT]));
  fdt.setpropCells(plicName, 'reg', 0, m.plic.base, 0, m.plic.size);
  // QEMU 7.2 announces all 96 (source 0 included), one more than a guest can use.
  fdt.setpropCell(plicName, 'riscv,ndev', VIRT_IRQCHIP_NUM_SOURCES);
  fdt.setpropCell(plicName, 'phandle', plicPhandle);
  // platform_bus_add_all_fdt_nodes(): the (empty) dynamic sysbus container.
  const pbus = `/platform-bus@${hex(m.platformBus.base)}`;
  fdt.addSubnode(pbus);
  fdt.setpropStringArray(pbus, 'compatible', ['qemu,platform', 'simple-bus']);
  fdt.setpropCell(pbus, '#size-cells', 1);
  fdt.setpropCell(pbus, '#address-cells', 1);
  fdt.setpropCells(pbus, 'ranges', 0, 0, m.platformBus.base, m.platformBus.size);
  fdt.setpropCell(pbus, 'interrupt-parent', plicPhandle);

  // create_fdt_virtio()
  for (let i = 0; i < VIRTIO_COUNT; i++) {
    const addr = m.virtio.base + i * m.virtio.size;
    const name = `/soc/virtio_mmio@${hex(addr)}`;
    fdt.addSubnode(name);
    fdt.setpropString(name, 'compatible', 'virtio,mmio');
    fdt.setpropCells(name, 'reg', 0, addr, 0, m.virtio.size);
    fdt.setpropCell(name, 'interrupt-parent', plicPhandle);
    fdt.setpropCell(name, 'interrupts', VIRTIO_IRQ + i);
  }

  // create_fdt_reset()
  const testPhandle = phandle++;
  const testName = `/soc/test@${hex(m.test.base)}`;
  fdt.addSubnode(testName);
  fdt.setpropStringArray(testName, 'compatible', ['sifive,test1', 'sifive,test0', 'syscon']);
  fdt.setpropCells(testName, 'reg', 0, m.test.base, 0, m.test.size);
  fdt.setpropCell(testName, 'phandle', testPhandle);
  for (const [node, compat, value] of [
    ['/reboot', 'syscon-reboot', FINISHER_RESET],
    ['/poweroff', 'syscon-poweroff', FINISHER_PASS],
  ] as const) {
    fdt.addSubnode(node);
    fdt.setpropString(node, 'compatible', compat);
    fdt.setpropCell(node, 'regmap', testPhandle);
    fdt.setpropCell(node, 'offset', 0);
    fdt.setpropCell(node, 'value', value);
  }

  // create_fdt_uart()
  const uartName = `/soc/serial@${hex(m.uart0.base)}`;
  fdt.addSubnode(uartName);
  fdt.setpropString(uartName, 'compatible', 'ns16550a');
  fdt.setpropCells(uartName, 'reg', 0, m.uart0.base, 0, m.uart0.size);
  fdt.setpropCell(uartName, 'clock-frequency', UART_CLOCK_FREQ);
  fdt.setpropCell(uartName, 'interrupt-parent', plicPhandle);
  fdt.setpropCell(uartName, 'interrupts', UART0_IRQ);
  fdt.addSubnode('/chosen');
  fdt.setpropString('/chosen', 'stdout-path', uartName);

  // create_fdt_rtc()
  const rtcName = `/soc/rtc@${hex(m.rtc.base)}`;
  fdt.addSubnode(rtcName);
  fdt.setpropString(rtcName, 'compatible', 'google,goldfish-rtc');
  fdt.setpropCells(rtcName, 'reg', 0, m.rtc.base, 0, m.rtc.size);
  fdt.setpropCell(rtcName, 'interrupt-parent', plicPhandle);
  fdt.setpropCell(rtcName, 'interrupts', RTC_IRQ);

  // create_fdt_pmu()
  fdt.addSubnode('/pmu');
  fdt.setpropString('/pmu', 'compatible', 'riscv,pmu');
  fdt.setpropCells('/pmu', 'riscv,event-to-mhpmcounters', ...PMU_EVENT_TO_MHPMCOUNTERS);

  if (cmdline) fdt.setpropString('/chosen', 'bootargs', cmdline);
  fdt.setprop('/chosen', 'rng-seed', rngSeed ?? new Uint8Array(randomBytes(32)));
  return fdt;
}

/** virt_machine_init() + virt_machine_done(). */
function virtMachineInit(machine: MachineState): void {
  const s = machine as RiscvVirtState;
  const m = VIRT_MEMMAP;
  const system = getSystemMemory();
  const smp = s.smp.cpus;

  // The harts: /machine/soc0 with harts[0..N-1].
  const soc = riscvBoardCreateHarts(s, m.mrom.base);
  s.soc = soc;

  // CLINT: MSWI + MTIMER.
  const mtimer = riscvBoardCreateClint(m.clint.base, smp);

  const plic = sifivePlicCreate(
    m.plic.base,
    plicHartConfigString(smp),
    smp,
    0,
    VIRT_IRQCHIP_NUM_SOURCES,
    VIRT_PLIC_NUM_PRIORITIES,
    VIRT_PLIC_PRIORITY_BASE,
    VIRT_PLIC_PENDING_BASE,
    VIRT_PLIC_ENABLE_BASE,
    VIRT_PLIC_ENABLE_STRIDE,
    VIRT_PLIC_CONTEXT_BASE,
    VIRT_PLIC_CONTEXT_STRIDE,
    m.plic.size,
  );

  // RAM and the mask ROM.
  const mem = riscvBoardCreateMemory(s, 'riscv_virt_board.ram', m.dram, 'riscv_virt_board.mrom', m.mrom);
  s.ramRegion = mem.ram;
  s.mrom = mem.mrom;

  sifiveTestCreate(m.test.base);
  for (let i = 0; i < VIRTIO_COUNT; i++) {
    virtioMmioCreate(m.virtio.base + i * m.virtio.size, qdevGetGpioIn(plic, VIRTIO_IRQ + i));
  }
  serialMmInit(system, m.uart0.base, 0, qdevGetGpioIn(plic, UART0_IRQ), 399193, serialHd(0));
  goldfishRtcCreate(m.rtc.base, qdevGetGpioIn(plic, RTC_IRQ));

  let fdt: Fdt;
  if (s.dtb) {
    // -dtb replaces the generated tree; only bootargs (and the initrd range) are filled in.
    let blob: Uint8Array;
    try {
      blob = readFileSync(s.dtb);
      fdt = Fdt.fromDtb(blob);
    } catch {
      throw errorSetg('load_device_tree() failed');
    }
    if (s.kernelCmdline) fdt.setpropString('/chosen', 'bootargs', s.kernelCmdline);
  } else {
    fdt = virtCreateFdt(s, s.kernelCmdline);
  }
  s.fdt = fdt;

  // virt_machine_done(): firmware, kernel, initrd, fdt, reset vector.
  riscvBoardBoot(s, {
    defaultFirmware: RISCV64_BIOS_BIN,
    dram: m.dram,
    mrom: m.mrom,
    fdt: () => fdt,
    initrdNeedsKernel: true,
  });

  riscvMachineFinish(soc.harts, [mtimer]);
}

defineMachine({
  name: 'virt',
  desc: 'RISC-V VirtIO board',
  instance: RiscvVirtState,
  classInit(mc: MachineClass) {
    mc.maxCpus = VIRT_CPUS_MAX;
    mc.defaultCpuType = TYPE_RISCV_CPU_BASE64;
    mc.defaultRamId = 'riscv_virt_board.ram';
    mc.numaMemSupported = true;
    mc.defaultRamSize = 128n * 1024n * 1024n;
  },
  init: virtMachineInit,
});
