/**
 * The stdio chardev (QEMU's chardev/char-stdio.c): stdin/stdout of the engine process.
 *
 * When stdin is a terminal it is put in raw mode (QEMU: qemu_chr_set_echo_stdio(false)) unless the
 * frontend asks for echo (a QMP monitor does: the terminal stays cooked so a person sees what they
 * type). Raw mode disables the terminal's own signal keys; with signal=on (the default) we turn
 * Ctrl-C back into SIGINT ourselves, with signal=off it is passed on as a byte. Only one stdio chardev
 * may exist, as in QEMU. End of input reports CLOSED.
 */
import { QapiError } from '../qapi/error.js';
import { Chardev, type ChardevStdio } from './char.js';

let stdioInUse = false;

/** Streams the chardev uses; tests substitute their own. */
export interface StdioStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  output: NodeJS.WritableStream & { writableLength?: number };
}

export class StdioChardev extends Chardev {
  readonly typeName = 'chardev-stdio';
  private readonly signal: boolean;
  private readonly streams: StdioStreams;
  private raw = false;
  private onData = (d: Buffer | string): void => this.receive(typeof d === 'string' ? Buffer.from(d) : d);
  /**
   * End of stdin. QEMU reports CLOSED here, but it reads its monitor one byte at a time, so every
   * command before the EOF has already run. We hand input over in chunks, so closing would drop
   * commands still queued (`printf '...quit' | engine -qmp stdio`); stdout stays usable, so the
   * frontend simply gets no more input.
   */
  private onEnd = (): void => {
    this.inputEnded = true;
  };
  /** Whether stdin has reached EOF. */
  inputEnded = false;

  constructor(label: string, opts: ChardevStdio, streams?: StdioStreams) {
    super(label);
    this.signal = opts.signal ?? true;
    this.streams = streams ?? { input: process.stdin, output: process.stdout };
  }

  protected async openBackend(): Promise<void> {
    if (stdioInUse) throw new QapiError('cannot use stdio by multiple character devices');
    stdioInUse = true;
    this.filename = 'stdio';
    this.setTerminalRaw(true);
    const input = this.streams.input;
    input.pause();
    input.on('data', this.onData);
    input.on('end', this.onEnd);
    this.beEvent('opened');
    this.sourceAttached();
  }

  private setTerminalRaw(raw: boolean): void {
    const input = this.streams.input;
    if (!input.isTTY || !input.setRawMode) return;
    input.setRawMode(raw);
    this.raw = raw;
  }

  private receive(d: Buffer): void {
    if (this.raw && this.signal && d.includes(0x03)) {
      process.kill(process.pid, 'SIGINT');
      d = Buffer.from(d.filter((b) => b !== 0x03));
    }
    this.beReceive(d);
  }

  override setEcho(echo: boolean): void {
    this.setTerminalRaw(!echo);
  }

  protected chrWrite(data: Buffer): number {
    this.streams.output.write(data);
    return data.length;
  }

  override outputBacklog(): number {
    return this.streams.output.writableLength ?? 0;
  }

  protected override setSourcePaused(paused: boolean): void {
    if (paused) this.streams.input.pause();
    else this.streams.input.resume();
  }

  protected override async closeBackend(): Promise<void> {
    const input = this.streams.input;
    input.off('data', this.onData);
    input.off('end', this.onEnd);
    input.pause();
    this.setTerminalRaw(false);
    stdioInUse = false;
    this.beEvent('closed');
  }
}
