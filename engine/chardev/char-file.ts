/**
 * The file chardev (QEMU's chardev/char-file.c): output appended or truncated into `out`, optional
 * input read from `in`. Writes are synchronous, as QEMU's blocking writes to a regular file.
 */
import fs from 'node:fs';
import { QapiError } from '../qapi/error.js';
import { Chardev, type ChardevFile } from './char.js';
import { strerror } from './strerror.js';

export class FileChardev extends Chardev {
  readonly typeName = 'chardev-file';
  private readonly opts: ChardevFile;
  private outFd: number | null = null;
  private input: fs.ReadStream | null = null;

  constructor(label: string, opts: ChardevFile) {
    super(label);
    this.opts = opts;
  }

  protected async openBackend(): Promise<void> {
    const { out, append } = this.opts;
    try {
      this.outFd = fs.openSync(out, append ? 'a' : 'w', 0o666);
    } catch (e) {
      throw new QapiError(`Could not open '${out}': ${strerror(e)}`);
    }
    const inPath = this.opts.in;
    if (inPath) {
      let fd: number;
      try {
        fd = fs.openSync(inPath, 'r');
      } catch (e) {
        throw new QapiError(`Could not open '${inPath}': ${strerror(e)}`);
      }
      const rs = fs.createReadStream('', { fd });
      rs.pause();
      rs.on('data', (d) => this.beReceive(d as Buffer));
      this.input = rs;
    }
    this.beEvent('opened');
    if (this.input) this.sourceAttached();
  }

  protected chrWrite(data: Buffer): number {
    if (this.outFd === null) return -1;
    try {
      let off = 0;
      while (off < data.length) off += fs.writeSync(this.outFd, data, off, data.length - off);
      return data.length;
    } catch {
      return -1;
    }
  }

  protected override setSourcePaused(paused: boolean): void {
    if (!this.input) return;
    if (paused) this.input.pause();
    else this.input.resume();
  }

  protected override async closeBackend(): Promise<void> {
    this.input?.destroy();
    this.input = null;
    if (this.outFd !== null) {
      try {
        fs.closeSync(this.outFd);
      } catch {
        // already closed
      }
      this.outFd = null;
    }
    this.beEvent('closed');
  }
}
