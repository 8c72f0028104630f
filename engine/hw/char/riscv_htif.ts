/**
 * HTIF, the Host-Target Interface of Spike (QEMU's hw/char/riscv_htif.c): two 64-bit mailboxes,
 * `tohost` and `fromhost`, through which bare-metal programs (riscv-tests, our ISA tests) print and
 * report their exit status.
 *
 * A write to tohost's high word carries a command: device = bits 63:56, cmd = 55:48, payload = 47:0.
 *   device 0, cmd 0, payload bit 0 set: exit with code payload >> 1 (0 = pass),
 *   device 1, cmd 1: console putchar (payload & 0xff); device 1, cmd 0: request a character.
 * The response goes to fromhost (device/cmd echoed) and tohost is cleared. When the loaded ELF has
 * `tohost`/`fromhost` symbols, the mailboxes sit at those addresses (overlaying RAM with a higher
 * priority); otherwise at the board's HTIF base. Like QEMU's, this is not a qdev device.
 */
import { MemoryRegion } from '../../system/memory.js';
import type { Chardev } from '../../chardev/char.js';
import type { VMStateDescription } from '../../migration/vmstate-types.js';

/** tohost/fromhost addresses recorded from ELF symbols (htif_symbol_callback). */
export interface HtifSymbols {
  tohost: number;
  fromhost: number;
}

export function htifSymbolCallback(syms: Partial<HtifSymbols>): (name: string, addr: number) => void {
  return (name, addr) => {
    if (name === 'tohost') syms.tohost = addr;
    else if (name === 'fromhost') syms.fromhost = addr;
  };
}

/** What an exit command does; by default the process exits (QEMU calls exit()). */
let exitHandler: (code: number) => void = (code) => {
  process.stdout.write('', () => process.exit(code));
};

export function setHtifExitHandler(fn: ((code: number) => void) | null): void {
  exitHandler = fn ?? ((code) => process.stdout.write('', () => process.exit(code)));
}

export class HtifState {
  /** (lo, hi) words. */
  readonly tohost = new Uint32Array(2);
  readonly fromhost = new Uint32Array(2);
  allowTohost = 0;
  fromhostInprogress = 0;
  /** A console read request waiting for input (0: none). */
  pendingRead = 0;
  readonly iomem: MemoryRegion;
  private readonly tohostOff: number;
  private readonly fromhostOff: number;

  constructor(
    system: MemoryRegion,
    private readonly chr: Chardev | null,
    nonElfBase: number,
    syms: Partial<HtifSymbols>,
  ) {
    let base: number;
    let size: number;
    if (syms.tohost === undefined || syms.fromhost === undefined) {
      base = nonElfBase;
      size = 16;
      this.tohostOff = 0;
      this.fromhostOff = 8;
    } else {
      base = Math.min(syms.tohost, syms.fromhost);
      size = Math.max(syms.tohost, syms.fromhost) - base + 8;
      this.tohostOff = syms.tohost - base;
      this.fromhostOff = syms.fromhost - base;
    }
    this.iomem = MemoryRegion.io('riscv.htif.uart', size, {
      read: (a) => this.read(a),
      write: (a, v) => this.write(a, v),
      impl: { minAccessSize: 4, maxAccessSize: 4 },
      valid: { minAccessSize: 4, maxAccessSize: 8 },
    });
    this.iomem.owner = this;
    system.addSubregionOverlap(base, this.iomem, 1);
    chr?.attachFrontend({
      canRead: () => (this.pendingRead ? 1 : 0),
      read: (d) => this.recv(d[0]!),
      event: () => undefined,
    });
  }

  private read(addr: number): number {
    if (addr === this.tohostOff) return this.tohost[0]!;
    if (addr === this.tohostOff + 4) return this.tohost[1]!;
    if (addr === this.fromhostOff) return this.fromhost[0]!;
    if (addr === this.fromhostOff + 4) return this.fromhost[1]!;
    return 0;
  }

  private write(addr: number, value: number): void {
    value >>>= 0;
    if (addr === this.tohostOff) {
      if (this.tohost[0] === 0 && this.tohost[1] === 0) this.allowTohost = 1;
      this.tohost[0] = value;
    } else if (addr === this.tohostOff + 4) {
      if (this.allowTohost) {
        this.tohost[1] = value;
        this.handleTohost();
      }
    } else if (addr === this.fromhostOff) {
      this.fromhostInprogress = 1;
      this.fromhost[0] = value;
    } else if (addr === this.fromhostOff + 4) {
      this.fromhost[1] = value;
      this.fromhostInprogress = 0;
    }
  }

  private handleTohost(): void {
    const hi = this.tohost[1]!;
    const lo = this.tohost[0]!;
    const device = hi >>> 24;
    const cmd = (hi >>> 16) & 0xff;
    const payload = (hi & 0xffff) * 4294967296 + lo;
    let resp = 0;
    if (device === 0) {
      if (cmd === 0 && payload % 2 === 1) {
        exitHandler(Math.floor(payload / 2));
        return;
      }
      // The pk syscall proxy is not supported (QEMU logs LOG_UNIMP).
    } else if (device === 1) {
      if (cmd === 0) {
        this.pendingRead = ((hi >>> 16) << 16) >>> 0 || 0x1000000;
        this.tohost.fill(0);
        this.chr?.acceptInput();
        return;
      }
      if (cmd === 1) {
        this.chr?.write(Buffer.from([lo & 0xff]));
        resp = 0x100 | (lo & 0xff);
      }
    }
    this.fromhost[1] = hi & 0xffff0000;
    this.fromhost[0] = resp;
    this.tohost.fill(0);
  }

  /** A console character for a pending read request (htif_recv). */
  private recv(ch: number): void {
    if (!this.pendingRead) return;
    this.fromhost[1] = 0x01000000;
    this.fromhost[0] = ch & 0xff;
    this.pendingRead = 0;
  }
}

export const vmstateHtif: VMStateDescription = {
  name: 'riscv.htif',
  versionId: 1,
  minimumVersionId: 1,
  fields: [
    { name: 'tohost', kind: 'array', elem: 'uint32', length: 2 },
    { name: 'fromhost', kind: 'array', elem: 'uint32', length: 2 },
    { name: 'allowTohost', kind: 'uint32' },
    { name: 'fromhostInprogress', kind: 'uint32' },
    { name: 'pendingRead', kind: 'uint32' },
  ],
};
