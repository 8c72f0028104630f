/**
 * NS16550A UART (QEMU's hw/char/serial.c and serial-mm): "serial" is the UART core, "serial-mm" the
 * sysbus wrapper with the register block at a fixed stride (8 registers << regshift) and one IRQ line,
 * as the `virt` board creates it at 0x10000000.
 *
 * Registers (DLAB = LCR bit 7 selects the divisor latch at 0/1): RBR/THR, IER, IIR/FCR, LCR, MCR, LSR,
 * MSR, SCR. With FCR.FE the 16-byte receive FIFO fills up to the trigger level before RDA is
 * signalled; a character timeout (CTI) reports fewer bytes 4 character times after the last one.
 * Transmission is immediate: a THR write goes to the chardev, THRE/TEMT are set and the THR-empty
 * interrupt is raised if enabled (Linux's console and tty drivers rely on both).
 *
 * Flow control: the UART tells its chardev how many bytes it can take (canRead); when the guest drains
 * the FIFO it calls acceptInput so the backend resumes reading. Loopback mode (MCR bit 4) sends
 * transmitted bytes back to the receiver and nothing to the chardev.
 */
import type { QomObject } from '../../qom/object.js';
import {
  typeRegister,
  objectCheck,
  objectNewChild,
  objectPropertyAdd,
  objectPropertyFindErr,
  objectPropertyGet,
  objectPropertySet,
} from '../../qom/object.js';
import {
  DeviceClass,
  DeviceState,
  TYPE_DEVICE,
  qdevNew,
  qdevRealize,
  qdevRealizeAndUnref,
} from '../core/qdev-core.js';
import {
  deviceClassSetProps,
  definePropBool,
  definePropUint32,
  definePropUint8,
} from '../core/qdev-properties.js';
import { definePropChr } from '../core/qdev-properties-system.js';
import {
  SysBusDevice,
  TYPE_SYS_BUS_DEVICE,
  sysbusConnectIrq,
  sysbusInitIrq,
  sysbusInitMmio,
  sysbusGetDefault,
} from '../core/sysbus.js';
import { type IRQState, qemuSetIrq } from '../core/irq.js';
import { MemoryRegion } from '../../system/memory.js';
import { errorSetg } from '../../qapi/error.js';
import type { VMStateDescription } from '../../migration/vmstate-types.js';
import type { Chardev, ChrEvent } from '../../chardev/char.js';
import { qemuChrFind } from '../../chardev/char-registry.js';
import { withEscapeKeys } from './serial-hds.js';

export const TYPE_SERIAL = 'serial';
export const TYPE_SERIAL_MM = 'serial-mm';

export const UART_LCR_DLAB = 0x80;
export const UART_IER_MSI = 0x08;
export const UART_IER_RLSI = 0x04;
export const UART_IER_THRI = 0x02;
export const UART_IER_RDI = 0x01;
export const UART_IIR_NO_INT = 0x01;
export const UART_IIR_ID = 0x06;
export const UART_IIR_MSI = 0x00;
export const UART_IIR_THRI = 0x02;
export const UART_IIR_RDI = 0x04;
export const UART_IIR_RLSI = 0x06;
export const UART_IIR_CTI = 0x0c;
export const UART_IIR_FE = 0xc0;
export const UART_MCR_LOOP = 0x10;
export const UART_MCR_OUT2 = 0x08;
export const UART_MCR_OUT1 = 0x04;
export const UART_MCR_RTS = 0x02;
export const UART_MCR_DTR = 0x01;
export const UART_MSR_DCD = 0x80;
export const UART_MSR_RI = 0x40;
export const UART_MSR_DSR = 0x20;
export const UART_MSR_CTS = 0x10;
export const UART_MSR_ANY_DELTA = 0x0f;
export const UART_LSR_TEMT = 0x40;
export const UART_LSR_THRE = 0x20;
export const UART_LSR_BI = 0x10;
export const UART_LSR_FE = 0x08;
export const UART_LSR_PE = 0x04;
export const UART_LSR_OE = 0x02;
export const UART_LSR_DR = 0x01;
export const UART_LSR_INT_ANY = 0x1e;
export const UART_FCR_ITL_MASK = 0xc0;
export const UART_FCR_DMS = 0x08;
export const UART_FCR_XFR = 0x04;
export const UART_FCR_RFR = 0x02;
export const UART_FCR_FE = 0x01;
export const UART_FIFO_LENGTH = 16;

/** A byte FIFO kept in a typed array so it can be saved as-is. */
class Fifo8 {
  readonly data = new Uint8Array(UART_FIFO_LENGTH);
  head = 0;
  num = 0;
  push(b: number): void {
    this.data[(this.head + this.num) % UART_FIFO_LENGTH] = b;
    this.num++;
  }
  pop(): number {
    const b = this.data[this.head]!;
    this.head = (this.head + 1) % UART_FIFO_LENGTH;
    this.num--;
    return b;
  }
  reset(): void {
    this.head = 0;
    this.num = 0;
  }
  get full(): boolean {
    return this.num === UART_FIFO_LENGTH;
  }
}

const vmstateFifo8: VMStateDescription = {
  name: 'Fifo8',
  versionId: 1,
  minimumVersionId: 1,
  fields: [
    { name: 'data', kind: 'buffer', length: UART_FIFO_LENGTH },
    { name: 'head', kind: 'uint32' },
    { name: 'num', kind: 'uint32' },
  ],
};

export class SerialState extends DeviceState {
  // properties
  chardev: string | null = null;
  baudbase = 115200;
  wakeup = false;
  // registers
  divider = 0;
  rbr = 0;
  thr = 0;
  tsr = 0;
  ier = 0;
  iir = UART_IIR_NO_INT;
  lcr = 0;
  mcr = 0;
  lsr = 0;
  msr = 0;
  scr = 0;
  fcr = 0;
  thrIpending = 0;
  timeoutIpending = 0;
  recvFifoItl = 1;
  readonly recvFifo = new Fifo8();
  readonly xmitFifo = new Fifo8();
  /** Nanoseconds one character takes on the line at the current settings. */
  charTransmitTime = 0;
  /** The output line (a one-element pin array; serial-mm hands in its sysbus IRQ). */
  irqPins: (IRQState | null)[] = [null];
  chr: Chardev | null = null;
  private fifoTimer: NodeJS.Timeout | null = null;

  updateIrq(): void {
    let tmp = UART_IIR_NO_INT;
    if (this.ier & UART_IER_RLSI && this.lsr & UART_LSR_INT_ANY) tmp = UART_IIR_RLSI;
    else if (this.ier & UART_IER_RDI && this.timeoutIpending) tmp = UART_IIR_CTI;
    else if (
      this.ier & UART_IER_RDI &&
      this.lsr & UART_LSR_DR &&
      (!(this.fcr & UART_FCR_FE) || this.recvFifo.num >= this.recvFifoItl)
    )
      tmp = UART_IIR_RDI;
    else if (this.ier & UART_IER_THRI && this.thrIpending) tmp = UART_IIR_THRI;
    else if (this.ier & UART_IER_MSI && this.msr & UART_MSR_ANY_DELTA) tmp = UART_IIR_MSI;
    this.iir = tmp | (this.iir & 0xf0);
    qemuSetIrq(this.irqPins[0] ?? null, tmp !== UART_IIR_NO_INT ? 1 : 0);
  }

  private updateParameters(): void {
    if (this.divider === 0 || this.divider > this.baudbase) return;
    const bits = 1 + 5 + (this.lcr & 3) + (this.lcr & 0x08 ? 1 : 0) + (this.lcr & 0x04 ? 2 : 1);
    const speed = this.baudbase / this.divider;
    this.charTransmitTime = (1e9 / speed) * bits;
  }

  private writeFcr(val: number): void {
    this.fcr = val;
    if (val & UART_FCR_FE) {
      this.iir |= UART_IIR_FE;
      this.recvFifoItl = [1, 4, 8, 14][(val & UART_FCR_ITL_MASK) >>> 6]!;
    } else {
      this.iir &= ~UART_IIR_FE;
    }
  }

  private armFifoTimeout(): void {
    this.cancelFifoTimeout();
    // 4 character times; at least a millisecond on the host.
    const ms = Math.max(1, (this.charTransmitTime * 4) / 1e6);
    this.fifoTimer = setTimeout(() => {
      this.fifoTimer = null;
      if (this.recvFifo.num) {
        this.timeoutIpending = 1;
        this.updateIrq();
      }
    }, ms);
    this.fifoTimer.unref?.();
  }

  private cancelFifoTimeout(): void {
    if (this.fifoTimer) clearTimeout(this.fifoTimer);
    this.fifoTimer = null;
  }

  /** serial_xmit(): move THR/FIFO contents to the line (chardev, or the receiver in loopback). */
  private xmit(): void {
    do {
      if (this.fcr & UART_FCR_FE) {
        if (this.xmitFifo.num === 0) break;
        this.tsr = this.xmitFifo.pop();
        if (!this.xmitFifo.num) this.lsr |= UART_LSR_THRE;
      } else {
        this.tsr = this.thr;
        this.lsr |= UART_LSR_THRE;
      }
      if (this.lsr & UART_LSR_THRE && !this.thrIpending) {
        this.thrIpending = 1;
        this.updateIrq();
      }
      if (this.mcr & UART_MCR_LOOP) this.receive(Buffer.from([this.tsr]));
      else this.chr?.write(Buffer.from([this.tsr]));
    } while (!(this.lsr & UART_LSR_THRE));
    this.lsr |= UART_LSR_TEMT;
  }

  read(addr: number): number {
    switch (addr & 7) {
      case 0: {
        if (this.lcr & UART_LCR_DLAB) return this.divider & 0xff;
        let ret: number;
        if (this.fcr & UART_FCR_FE) {
          ret = this.recvFifo.num === 0 ? 0 : this.recvFifo.pop();
          if (this.recvFifo.num === 0) {
            this.lsr &= ~(UART_LSR_DR | UART_LSR_BI);
            this.cancelFifoTimeout();
          } else {
            this.armFifoTimeout();
          }
          this.timeoutIpending = 0;
        } else {
          ret = this.rbr;
          this.lsr &= ~(UART_LSR_DR | UART_LSR_BI);
        }
        this.updateIrq();
        if (!(this.mcr & UART_MCR_LOOP)) this.chr?.acceptInput();
        return ret;
      }
      case 1:
        return this.lcr & UART_LCR_DLAB ? (this.divider >>> 8) & 0xff : this.ier;
      case 2: {
        const ret = this.iir;
        if ((ret & UART_IIR_ID) === UART_IIR_THRI) {
          this.thrIpending = 0;
          this.updateIrq();
        }
        return ret;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const ret = this.lsr;
        if (this.lsr & (UART_LSR_BI | UART_LSR_OE)) {
          this.lsr &= ~(UART_LSR_BI | UART_LSR_OE);
          this.updateIrq();
        }
        return ret;
      }
      case 6: {
        if (this.mcr & UART_MCR_LOOP) {
          // Loopback: the modem outputs appear on the inputs.
          return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x02) << 3) | ((this.mcr & 0x01) << 5);
        }
        const ret = this.msr;
        if (this.msr & UART_MSR_ANY_DELTA) {
          this.msr &= 0xf0;
          this.updateIrq();
        }
        return ret;
      }
      default:
        return this.scr;
    }
  }

  write(addr: number, val: number): void {
    val &= 0xff;
    switch (addr & 7) {
      case 0:
        if (this.lcr & UART_LCR_DLAB) {
          this.divider = (this.divider & 0xff00) | val;
          this.updateParameters();
          return;
        }
        this.thr = val;
        if (this.fcr & UART_FCR_FE) {
          if (this.xmitFifo.full) this.xmitFifo.pop();
          this.xmitFifo.push(val);
        }
        this.thrIpending = 0;
        this.lsr &= ~(UART_LSR_THRE | UART_LSR_TEMT);
        this.updateIrq();
        this.xmit();
        return;
      case 1: {
        if (this.lcr & UART_LCR_DLAB) {
          this.divider = (this.divider & 0x00ff) | (val << 8);
          this.updateParameters();
          return;
        }
        const changed = (this.ier ^ val) & 0x0f;
        this.ier = val & 0x0f;
        // Enabling THRI with THR empty raises THRE again (Windows relies on it; QEMU does the same).
        if (changed & UART_IER_THRI) {
          this.thrIpending = this.ier & UART_IER_THRI && this.lsr & UART_LSR_THRE ? 1 : 0;
        }
        if (changed) this.updateIrq();
        return;
      }
      case 2: {
        // A change of the enable bit flushes both FIFOs.
        if ((val ^ this.fcr) & UART_FCR_FE) val |= UART_FCR_XFR | UART_FCR_RFR;
        if (val & UART_FCR_RFR) {
          this.lsr &= ~(UART_LSR_DR | UART_LSR_BI);
          this.cancelFifoTimeout();
          this.timeoutIpending = 0;
          this.recvFifo.reset();
        }
        if (val & UART_FCR_XFR) {
          this.lsr |= UART_LSR_THRE;
          this.thrIpending = 1;
          this.xmitFifo.reset();
        }
        this.writeFcr(val & 0xc9);
        this.updateIrq();
        if (val & UART_FCR_RFR) this.chr?.acceptInput();
        return;
      }
      case 3: {
        const breakChanged = (this.lcr ^ val) & 0x40;
        this.lcr = val;
        this.updateParameters();
        void breakChanged;
        return;
      }
      case 4: {
        const old = this.mcr;
        this.mcr = val & 0x1f;
        if (val & UART_MCR_LOOP) return;
        if (old & UART_MCR_LOOP) this.chr?.acceptInput();
        return;
      }
      case 5:
        return; // LSR is read-only
      case 6: {
        const deltas = this.msr & UART_MSR_ANY_DELTA;
        this.msr = (val & 0xf0) | deltas;
        return;
      }
      default:
        this.scr = val;
    }
  }

  /** serial_can_receive(). */
  canReceive(): number {
    if (this.fcr & UART_FCR_FE) {
      if (this.recvFifo.num < UART_FIFO_LENGTH) {
        return this.recvFifo.num <= this.recvFifoItl ? this.recvFifoItl - this.recvFifo.num : 1;
      }
      return 0;
    }
    return this.lsr & UART_LSR_DR ? 0 : 1;
  }

  /** serial_receive1(). */
  receive(buf: Uint8Array): void {
    if (buf.length === 0) return;
    if (this.fcr & UART_FCR_FE) {
      for (const b of buf) {
        if (this.recvFifo.full) this.lsr |= UART_LSR_OE;
        else this.recvFifo.push(b);
      }
      this.lsr |= UART_LSR_DR;
      this.armFifoTimeout();
    } else {
      if (this.lsr & UART_LSR_DR) this.lsr |= UART_LSR_OE;
      this.rbr = buf[0]!;
      this.lsr |= UART_LSR_DR;
    }
    this.updateIrq();
  }

  event(ev: ChrEvent): void {
    if (ev === 'break') {
      this.rbr = 0;
      this.lsr |= UART_LSR_BI | UART_LSR_DR;
      this.updateIrq();
    }
  }

  reset(): void {
    this.cancelFifoTimeout();
    this.rbr = 0;
    this.ier = 0;
    this.iir = UART_IIR_NO_INT;
    this.lcr = 0;
    this.lsr = UART_LSR_TEMT | UART_LSR_THRE;
    this.msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    this.divider = 0x0c;
    this.mcr = UART_MCR_OUT2;
    this.scr = 0;
    this.tsr = 0;
    this.charTransmitTime = (1e9 / 9600) * 10;
    this.recvFifo.reset();
    this.xmitFifo.reset();
    this.fcr = 0;
    this.recvFifoItl = 1;
    this.thrIpending = 0;
    this.timeoutIpending = 0;
    this.updateIrq();
  }

  /** serial_realize(): bind the chardev frontend. */
  attach(): void {
    if (!this.chardev) return;
    const chr = qemuChrFind(this.chardev);
    if (!chr) throw errorSetg(`Property 'serial.chardev' can't find value '${this.chardev}'`);
    chr.attachFrontend(
      withEscapeKeys(chr, {
        canRead: () => this.canReceive(),
        read: (d) => this.receive(d),
        event: (e) => this.event(e),
      }),
    );
    this.chr = chr;
  }

  detach(): void {
    this.cancelFifoTimeout();
    this.chr?.detachFrontend();
    this.chr = null;
  }
}

export const SERIAL = (o: QomObject) => objectCheck<SerialState>(o, TYPE_SERIAL);

/** QEMU's vmstate_serial (version 3) with the FIFO state folded in as a subsection. */
export const vmstateSerial: VMStateDescription = {
  name: 'serial',
  versionId: 3,
  minimumVersionId: 2,
  fields: [
    { name: 'divider', kind: 'uint16' },
    { name: 'rbr', kind: 'uint8' },
    { name: 'ier', kind: 'uint8' },
    { name: 'iir', kind: 'uint8' },
    { name: 'lcr', kind: 'uint8' },
    { name: 'mcr', kind: 'uint8' },
    { name: 'lsr', kind: 'uint8' },
    { name: 'msr', kind: 'uint8' },
    { name: 'scr', kind: 'uint8' },
    { name: 'fcr', kind: 'uint8', versionId: 3 },
  ],
  subsections: [
    {
      name: 'serial/thr_ipending',
      versionId: 1,
      minimumVersionId: 1,
      needed: (s: SerialState) => s.thrIpending !== ((s.iir & UART_IIR_ID) === UART_IIR_THRI ? 1 : 0),
      fields: [{ name: 'thrIpending', kind: 'int32' }],
    },
    {
      name: 'serial/fifo',
      versionId: 1,
      minimumVersionId: 1,
      needed: (s: SerialState) => s.recvFifo.num > 0 || s.xmitFifo.num > 0,
      fields: [
        { name: 'recvFifo', kind: 'struct', vmsd: vmstateFifo8 },
        { name: 'xmitFifo', kind: 'struct', vmsd: vmstateFifo8 },
      ],
    },
    {
      name: 'serial/timeout_timer',
      versionId: 1,
      minimumVersionId: 1,
      needed: (s: SerialState) => s.timeoutIpending !== 0,
      fields: [
        { name: 'timeoutIpending', kind: 'uint8' },
        { name: 'recvFifoItl', kind: 'uint8' },
      ],
    },
  ],
  preLoad(s: SerialState) {
    s.thrIpending = -1;
  },
  postLoad(s: SerialState) {
    if (s.thrIpending === -1) s.thrIpending = (s.iir & UART_IIR_ID) === UART_IIR_THRI ? 1 : 0;
    const fcr = s.fcr;
    s.fcr = 0;
    if (fcr & UART_FCR_FE) {
      s.fcr = fcr;
      s.iir |= UART_IIR_FE;
      s.recvFifoItl = [1, 4, 8, 14][(fcr & UART_FCR_ITL_MASK) >>> 6]!;
    }
    s.updateIrq();
  },
};

typeRegister<SerialState, DeviceClass>({
  name: TYPE_SERIAL,
  parent: TYPE_DEVICE,
  instance: SerialState,
  classInit(dc) {
    deviceClassSetProps(dc, [
      definePropChr('chardev', 'chardev'),
      definePropUint32('baudbase', 'baudbase', 115200),
      definePropBool('wakeup', 'wakeup', false),
    ]);
    dc.userCreatable = false;
    // The UART's state is saved by its wrapper (serial-mm's vmsd embeds vmstateSerial), as in QEMU.
    dc.realize = (dev) => {
      const s = dev as SerialState;
      s.attach();
      s.reset();
    };
    dc.unrealize = (dev) => (dev as SerialState).detach();
    dc.reset = (dev) => (dev as SerialState).reset();
  },
});

// ---------------------------------------------------------------------------------------------
// serial-mm

export class SerialMMState extends SysBusDevice {
  regshift = 0;
  endianness = 2; // DEVICE_LITTLE_ENDIAN
  serial!: SerialState;
  iomem: MemoryRegion | null = null;
}

export const vmstateSerialMm: VMStateDescription = {
  name: 'serial-mm',
  versionId: 1,
  minimumVersionId: 1,
  fields: [{ name: 'serial', kind: 'struct', vmsd: vmstateSerial }],
};

typeRegister<SerialMMState, DeviceClass>({
  name: TYPE_SERIAL_MM,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: SerialMMState,
  classInit(dc) {
    deviceClassSetProps(dc, [
      definePropUint8('regshift', 'regshift', 0),
      definePropUint8('endianness', 'endianness', 0),
    ]);
    dc.vmsd = vmstateSerialMm;
    dc.realize = (dev) => {
      const s = dev as SerialMMState;
      qdevRealize(s.serial, null);
      const shift = s.regshift;
      s.iomem = MemoryRegion.io('serial', 8 << shift, {
        read: (a) => s.serial.read(a >>> shift),
        write: (a, v) => s.serial.write(a >>> shift, v),
        valid: { minAccessSize: 1, maxAccessSize: 8 },
        impl: { minAccessSize: 1, maxAccessSize: 1 },
      });
      s.iomem.owner = s;
      sysbusInitMmio(s, s.iomem);
      // The UART's line is the wrapper's sysbus IRQ.
      s.serial.irqPins = sysbusInitIrq(s);
    };
    dc.reset = (dev) => (dev as SerialMMState).serial.reset();
  },
  instanceInit(s) {
    // object_initialize_child("serial") + qdev_alias_all_properties(serial -> serial-mm).
    s.serial = objectNewChild<SerialState>(s, 'serial', TYPE_SERIAL);
    for (const name of ['chardev', 'baudbase', 'wakeup']) {
      const target = objectPropertyFindErr(s.serial, name);
      objectPropertyAdd(
        s,
        name,
        target.type,
        (_o, v) => objectPropertyGet(s.serial, name, v),
        (_o, v) => objectPropertySet(s.serial, name, v),
      );
    }
  },
});

/** serial_mm_init(): the UART at `base` in `mr` (not through sysbusMmioMap, so qtree shows it unmapped, as in QEMU). */
export function serialMmInit(
  mr: MemoryRegion,
  base: number,
  regshift: number,
  irq: IRQState | null,
  baudbase: number,
  chr: Chardev | null,
): SerialMMState {
  const dev = qdevNew<SerialMMState>(TYPE_SERIAL_MM);
  dev.regshift = regshift;
  dev.serial.baudbase = baudbase;
  dev.serial.chardev = chr?.label ?? null;
  dev.endianness = 2;
  qdevRealizeAndUnref(dev, sysbusGetDefault());
  sysbusConnectIrq(dev, 0, irq);
  dev.serial.updateIrq();
  mr.addSubregion(base, dev.iomem!);
  return dev;
}
