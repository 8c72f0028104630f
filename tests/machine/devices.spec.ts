/**
 * The `virt` devices through the guest's view: MMIO reads/writes at their QEMU addresses, and the
 * interrupt lines they drive into the PLIC and the hart's mip. The machine is created stopped (-S),
 * so no instruction runs and every register access is the test's own.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { objectResolvePath } from '../../engine/qom/object.js';
import { setRunStateHooks, type ShutdownCause } from '../../engine/system/runstate.js';
import { addressSpaceMemory } from '../../engine/hw/riscv/machine-memory.js';
import { cpuList } from '../../engine/hw/riscv/riscv_hart.js';
import { virtualClock } from '../../engine/system/virtual-clock.js';
import { qdevGetGpioIn } from '../../engine/hw/core/qdev-core.js';
import { qemuSetIrq } from '../../engine/hw/core/irq.js';
import type { SiFivePlicState } from '../../engine/hw/intc/sifive_plic.js';
import type { SerialMMState } from '../../engine/hw/char/serial.js';
import type { RiscvAclintMtimerState } from '../../engine/hw/intc/riscv_aclint.js';
import { setSifiveTestFailHandler } from '../../engine/hw/misc/sifive_test.js';
import { setRtcHostClock } from '../../engine/hw/rtc/goldfish_rtc.js';
import { qmpRingbufRead } from '../../engine/chardev/char-registry.js';
import { MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP } from '../../engine/target/riscv/cpu-state.js';
import { resetEngine, startVirt } from '../helpers/virt-device-harness.js';

const PLIC = 0xc000000;
const UART = 0x10000000;
const CLINT = 0x2000000;
const MTIMER = CLINT + 0x4000;
const RTC = 0x101000;

const as = () => addressSpaceMemory();
const rd = (addr: number, size = 4) => as().read(addr, size);
const wr = (addr: number, v: number, size = 4, hi = 0) => as().write(addr, size, v, hi);
const mip = () => cpuList()[0]!.core!.readMip();

function byType<T>(type: string): T {
  const found: T[] = [];
  const walk = (path: string) => {
    const o = objectResolvePath(path);
    if (o && o.class.type.name === type) found.push(o as T);
  };
  for (let i = 0; i < 32; i++) walk(`/machine/unattached/device[${i}]`);
  if (!found.length) throw new Error(`no ${type}`);
  return found[0]!;
}

beforeEach(() => startVirt(['-chardev', 'ringbuf,id=con,size=4096', '-serial', 'chardev:con']));
afterEach(async () => {
  await resetEngine();
  setRtcHostClock(null);
  setSifiveTestFailHandler(null);
});

describe('ACLINT', () => {
  it('drives MTIP from mtime >= mtimecmp, with 32- and 64-bit access', () => {
    wr(MTIMER + 0x7ff8, 1000, 8, 0); // mtime = 1000
    expect(rd(MTIMER + 0x7ff8)).toBe(1000);
    wr(MTIMER + 0, 5000, 8, 0);
    expect(mip() & MIP_MTIP).toBe(0);
    wr(MTIMER + 0x7ff8, 6000);
    expect(mip() & MIP_MTIP).toBe(MIP_MTIP);
    // Raise the compare's high word: the line drops.
    wr(MTIMER + 4, 0xffffffff);
    expect(mip() & MIP_MTIP).toBe(0);
    expect(rd(MTIMER + 4)).toBe(0xffffffff);
    expect(rd(MTIMER + 0)).toBe(5000);
    as().read(MTIMER + 0, 8);
    expect(as().hi).toBe(0xffffffff);
    // mtime's high half is writable on its own.
    wr(MTIMER + 0x7ffc, 1);
    expect(rd(MTIMER + 0x7ffc)).toBe(1);
    expect(rd(MTIMER + 0x7ff8)).toBe(6000);
  });

  it('counts at 10 MHz while the VM runs and reports when the next compare is due', async () => {
    const mt = byType<RiscvAclintMtimerState>('riscv.aclint.mtimer');
    expect(cpuList()[0]!.core!.time).toBe(mt);
    wr(MTIMER + 0x7ff8, 0, 8, 0);
    expect(mt.nextDeadlineMs()).toBe(Infinity); // stopped VM: no deadline
    virtualClock.start();
    try {
      const t0 = mt.ticks();
      await new Promise((r) => setTimeout(r, 30));
      const dt = mt.ticks() - t0;
      expect(dt).toBeGreaterThan(200_000); // >= 20 ms at 10 MHz
      expect(dt).toBeLessThan(20_000_000);
      // 50 ms ahead of the moment mt.ticks() is read, somewhere between `before` and `after` on the host clock.
      const before = performance.now();
      wr(MTIMER, (mt.ticks() + 500_000) >>> 0, 8, 0);
      const after = performance.now();
      const deadline = mt.nextDeadlineMs();
      expect(deadline - before).toBeGreaterThan(49);
      expect(deadline - after).toBeLessThan(51);
      wr(MTIMER, 0, 8, 0);
      expect(mip() & MIP_MTIP).toBe(MIP_MTIP);
    } finally {
      virtualClock.stop();
    }
  });

  it('MSWI: MSIP bit per hart', () => {
    wr(CLINT, 1);
    expect(mip() & MIP_MSIP).toBe(MIP_MSIP);
    expect(rd(CLINT)).toBe(1);
    wr(CLINT, 0);
    expect(mip() & MIP_MSIP).toBe(0);
    expect(rd(CLINT)).toBe(0);
    expect(rd(CLINT + 4)).toBe(0); // no hart 1
  });
});

describe('PLIC', () => {
  const prio = (s: number) => PLIC + 4 * s;
  const enable = (ctx: number) => PLIC + 0x2000 + 0x80 * ctx;
  const threshold = (ctx: number) => PLIC + 0x200000 + 0x1000 * ctx;
  const claim = (ctx: number) => threshold(ctx) + 4;
  let plic: SiFivePlicState;
  const line = (src: number, level: number) => qemuSetIrq(qdevGetGpioIn(plic, src), level);
  beforeEach(() => {
    plic = byType<SiFivePlicState>('riscv.sifive.plic');
  });

  it('has QEMU virt configuration', () => {
    expect(plic.numSources).toBe(96);
    expect(plic.numAddrs).toBe(2);
    expect(plic.addrConfig.map((a) => a.mode)).toEqual(['M', 'S']);
  });

  it('pending, priority, enable and threshold gate MEIP/SEIP', () => {
    line(5, 1);
    expect(rd(PLIC + 0x1000)).toBe(1 << 5);
    expect(mip() & (MIP_MEIP | MIP_SEIP)).toBe(0); // priority 0 never interrupts
    wr(prio(5), 3);
    expect(mip() & MIP_MEIP).toBe(0); // not enabled
    wr(enable(0), 1 << 5);
    expect(mip() & MIP_MEIP).toBe(MIP_MEIP);
    expect(mip() & MIP_SEIP).toBe(0);
    wr(enable(1), 1 << 5);
    expect(mip() & MIP_SEIP).toBe(MIP_SEIP);
    wr(threshold(0), 3);
    expect(mip() & MIP_MEIP).toBe(0);
    expect(rd(threshold(0))).toBe(3);
    wr(threshold(0), 8); // above num-priorities: ignored
    expect(rd(threshold(0))).toBe(3);
    wr(PLIC + 0x1000, 0); // pending is read-only
    expect(rd(PLIC + 0x1000)).toBe(1 << 5);
  });

  it('priorities are WARL over 3 bits', () => {
    wr(prio(7), 0xff);
    expect(rd(prio(7))).toBe(7);
  });

  it('claim returns the best source, holds it until complete', () => {
    for (const s of [3, 9, 40]) {
      wr(enable(1) + 4 * (s >> 5), rd(enable(1) + 4 * (s >> 5)) | (1 << (s & 31)));
      line(s, 1);
    }
    wr(prio(3), 2);
    wr(prio(9), 5);
    wr(prio(40), 5);
    expect(mip() & MIP_SEIP).toBe(MIP_SEIP);
    expect(rd(claim(1))).toBe(9); // highest priority, lowest id on a tie
    expect(rd(PLIC + 0x1000) & (1 << 9)).toBe(0);
    expect(rd(claim(1))).toBe(40);
    expect(rd(claim(1))).toBe(3);
    expect(rd(claim(1))).toBe(0);
    expect(mip() & MIP_SEIP).toBe(0);
    // A new edge on a claimed source stays pending but is not delivered until completion.
    line(9, 0);
    line(9, 1);
    expect(mip() & MIP_SEIP).toBe(0);
    wr(claim(1), 9);
    expect(mip() & MIP_SEIP).toBe(MIP_SEIP);
    expect(rd(claim(1))).toBe(9);
  });
});

describe('NS16550A', () => {
  let uart: SerialMMState;
  beforeEach(() => {
    uart = byType<SerialMMState>('serial-mm');
  });
  const out = () => qmpRingbufRead('con', 4096);
  const reg = (r: number) => rd(UART + r, 1);
  const set = (r: number, v: number) => wr(UART + r, v, 1);
  const uartPending = () => (rd(PLIC + 0x1000) >>> 10) & 1;

  it('resets like QEMU', () => {
    expect(reg(5)).toBe(0x60); // LSR: THRE | TEMT
    expect(reg(2)).toBe(0x01); // IIR: no interrupt
    expect(reg(4)).toBe(0x08); // MCR: OUT2
    expect(reg(6)).toBe(0xb0); // MSR: DCD | DSR | CTS
  });

  it('transmits to the chardev and raises THRE when enabled', () => {
    set(0, 0x41);
    set(0, 0x42);
    expect(out()).toBe('AB');
    expect(reg(5) & 0x60).toBe(0x60);
    expect(uartPending()).toBe(0);
    set(1, 0x02); // IER.THRI with THR empty: THRE interrupt
    expect(uartPending()).toBe(1);
    expect(reg(2) & 0x0f).toBe(0x02);
    // Reading IIR with THRI acknowledged it.
    expect(reg(2) & 0x0f).toBe(0x01);
    expect(uartPending()).toBe(0);
  });

  it('divisor latch behind LCR.DLAB', () => {
    set(3, 0x80);
    set(0, 0x01);
    set(1, 0x02);
    expect(reg(0)).toBe(0x01);
    expect(reg(1)).toBe(0x02);
    set(3, 0x03);
    expect(reg(1)).toBe(0); // IER again
    expect(uart.serial.divider).toBe(0x201);
  });

  it('non-FIFO receive: RDI, overrun, LSR clears OE', () => {
    set(1, 0x01);
    expect(uart.serial.canReceive()).toBe(1);
    uart.serial.receive(Buffer.from('x'));
    expect(uart.serial.canReceive()).toBe(0);
    expect(reg(2) & 0x0f).toBe(0x04);
    expect(uartPending()).toBe(1);
    uart.serial.receive(Buffer.from('y'));
    expect(reg(5) & 0x03).toBe(0x03); // DR | OE
    expect(reg(5) & 0x02).toBe(0); // OE cleared by the read
    expect(reg(0)).toBe(0x79);
    expect(reg(5) & 1).toBe(0);
    expect(uartPending()).toBe(0);
  });

  it('FIFO: trigger level, character timeout, flow control advertises the free space', async () => {
    set(2, 0x81); // enable, trigger 8
    expect(reg(2) & 0xc0).toBe(0xc0);
    set(1, 0x01);
    expect(uart.serial.canReceive()).toBe(8);
    uart.serial.receive(Buffer.from('abc'));
    expect(reg(5) & 1).toBe(1);
    expect(reg(2) & 0x0f).toBe(0x01); // below the trigger level
    await new Promise((r) => setTimeout(r, 20));
    expect(reg(2) & 0x0f).toBe(0x0c); // character timeout
    expect(String.fromCharCode(reg(0), reg(0), reg(0))).toBe('abc');
    expect(reg(2) & 0x0f).toBe(0x01);
    uart.serial.receive(Buffer.from('12345678'));
    expect(reg(2) & 0x0f).toBe(0x04); // trigger level reached
    expect(uart.serial.canReceive()).toBe(0); // QEMU: nothing more once the trigger level is reached
    reg(0);
    expect(uart.serial.canReceive()).toBe(1);
    set(2, 0x83); // flush the receive FIFO
    expect(reg(5) & 1).toBe(0);
  });

  it('loopback: transmitted bytes come back, nothing reaches the chardev', () => {
    set(4, 0x10 | 0x03);
    set(0, 0x5a);
    expect(out()).toBe('');
    expect(reg(5) & 1).toBe(1);
    expect(reg(0)).toBe(0x5a);
    expect(reg(6) & 0x30).toBe(0x30); // RTS -> CTS, DTR -> DSR
  });
});

describe('sifive_test, goldfish RTC, virtio-mmio', () => {
  it('sifive_test: PASS shuts down, RESET resets, FAIL exits with the code', async () => {
    const events: Array<[string, ShutdownCause]> = [];
    setRunStateHooks({
      exit: (c) => events.push(['exit', c]),
      machineReset: (c) => events.push(['reset', c]),
    });
    wr(0x100000, 0x7777);
    await new Promise((r) => setImmediate(r));
    wr(0x100000, 0x5555);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual([
      ['reset', 'guest-reset'],
      ['exit', 'guest-shutdown'],
    ]);
    let code = -1;
    setSifiveTestFailHandler((c) => (code = c));
    wr(0x100000, (42 << 16) | 0x3333);
    expect(code).toBe(42);
    expect(rd(0x100000)).toBe(0);
  });

  it('goldfish RTC: time from the host clock, writable, alarm interrupt', () => {
    let now = 1_700_000_000_123_456_789n;
    setRtcHostClock(() => now);
    const lo = rd(RTC + 0x00);
    const hi = rd(RTC + 0x04);
    expect((BigInt(hi) << 32n) | BigInt(lo)).toBe(now);
    // Set the clock 1 s back.
    const t = now - 1_000_000_000n;
    wr(RTC + 0x04, Number(t >> 32n));
    wr(RTC + 0x00, Number(t & 0xffffffffn));
    now += 5n;
    const back = (BigInt(rd(RTC + 0x04)) << 32n) | BigInt(rd(RTC + 0x00));
    expect(rd(RTC + 0x00)).toBe(Number((t + 5n) & 0xffffffffn));
    expect(back >> 32n).toBe(t >> 32n);
    // A future alarm runs; clearing stops it.
    const future = t + 10_000_000_000n;
    wr(RTC + 0x0c, Number(future >> 32n));
    wr(RTC + 0x08, Number(future & 0xffffffffn));
    expect(rd(RTC + 0x18)).toBe(1);
    wr(RTC + 0x14, 1);
    expect(rd(RTC + 0x18)).toBe(0);
    // An alarm in the past fires at once; the line follows IRQ_ENABLED until CLEAR_INTERRUPT.
    wr(RTC + 0x0c, 0);
    wr(RTC + 0x08, 1);
    expect((rd(PLIC + 0x1000) >>> 11) & 1).toBe(0);
    wr(RTC + 0x10, 1);
    expect((rd(PLIC + 0x1000) >>> 11) & 1).toBe(1);
    wr(RTC + 0x1c, 1);
    expect((rd(PLIC + 0x1000) >>> 11) & 1).toBe(0);
  });

  it('virtio-mmio slots report no device', () => {
    for (let i = 0; i < 8; i++) {
      const base = 0x10001000 + i * 0x1000;
      expect(rd(base)).toBe(0x74726976);
      expect(rd(base + 4)).toBe(1);
      expect(rd(base + 8)).toBe(0);
      expect(rd(base + 0xc)).toBe(0x554d4551);
    }
    expect(as().read(0x10001000 + 0x200, 4)).toBe(0);
    expect(as().result).not.toBe(0); // only 0x200 bytes are decoded
  });
});
