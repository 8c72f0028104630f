/**
 * Drives a guest's serial console the way a person at a terminal would: send a line, wait for text
 * (a regex) with a timeout, collect what came back. Independent of what produces the console (real
 * QEMU today, our own engine later), so guest tests keep the same expectations across both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** The default guest's fixed shell prompt (PS1 in assets/guests/debian-riscv64/rootfs). */
export const GUEST_PROMPT = /(?<=^|\n)~ # /;

/** Terminal control sequences (CSI, OSC, two-byte ESC forms); tests match on plain text. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ESCAPE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()#][0-9A-Za-z]|[@-Z\\-_=>78])/g;
/** An escape sequence cut off at the end of a chunk: held back until the rest arrives. */
// eslint-disable-next-line no-control-regex -- as above
const PARTIAL_ESCAPE = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[()#])?$/;

export class SerialTimeoutError extends Error {
  override readonly name = 'SerialTimeoutError';
}

export interface WaitResult {
  /** The regex match. */
  match: RegExpExecArray;
  /** Text between the previous read position and the start of the match. */
  before: string;
}

export interface SerialSessionOptions {
  /** Default timeout of waits (ms). */
  timeoutMs?: number;
  /** Called with each cleaned chunk (e.g. to mirror the console while debugging). */
  onData?: (text: string) => void;
}

export class SerialSession {
  private text = '';
  private carry = '';
  /** Read position: waits look only at text after it. */
  private cursor = 0;
  private ended = false;
  private readonly listeners = new Set<() => void>();
  private readonly timeoutMs: number;

  constructor(
    private readonly input: Writable,
    output: Readable,
    private readonly opts: SerialSessionOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => this.receive(chunk));
    output.on('end', () => this.finish());
    output.on('close', () => this.finish());
  }

  /** Everything received so far, without carriage returns and escape sequences. */
  get output(): string {
    return this.text;
  }

  /** Text received after the read position (not consumed). */
  get pending(): string {
    return this.text.slice(this.cursor);
  }

  /** True once the console's output stream has ended (the VM exited). */
  get closed(): boolean {
    return this.ended;
  }

  private receive(chunk: string): void {
    let s = this.carry + chunk;
    const partial = PARTIAL_ESCAPE.exec(s);
    this.carry = partial ? partial[0] : '';
    if (partial) s = s.slice(0, partial.index);
    const clean = s.replace(ESCAPE, '').replace(/\r/g, '');
    if (!clean) return;
    this.text += clean;
    this.opts.onData?.(clean);
    for (const l of [...this.listeners]) l();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    for (const l of [...this.listeners]) l();
  }

  /** Sends raw text (no line ending added). */
  send(text: string): void {
    this.input.write(text);
  }

  /** Sends a line as a terminal's Enter key does (CR; the guest tty maps it to NL). */
  sendLine(line: string): void {
    this.send(`${line}\r`);
  }

  /**
   * Waits until `pattern` matches the unread text, then moves the read position past the match.
   * Rejects with the tail of the output on timeout or when the console closes first.
   */
  waitFor(pattern: RegExp | string, timeoutMs = this.timeoutMs): Promise<WaitResult> {
    const re =
      typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    const flags = re.flags.replace('g', '').replace('y', '');
    const search = new RegExp(re.source, flags);
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const unread = this.text.slice(this.cursor);
        const m = search.exec(unread);
        if (m) {
          cleanup();
          const before = unread.slice(0, m.index);
          this.cursor += m.index + m[0].length;
          resolve({ match: m, before });
          return true;
        }
        if (this.ended) {
          cleanup();
          reject(
            new SerialTimeoutError(`console closed while waiting for ${re}; last output:\n${this.tail()}`),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new SerialTimeoutError(
            `timed out after ${timeoutMs} ms waiting for ${re}; last output:\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => void check();
      this.listeners.add(listener);
      check();
    });
  }

  /**
   * Runs a shell command and returns its output: sends the line, waits for `prompt`, and strips the
   * echoed command line. The prompt must be the guest's PS1 (default GUEST_PROMPT).
   */
  async run(command: string, opts: { prompt?: RegExp; timeoutMs?: number } = {}): Promise<string> {
    this.sendLine(command);
    const { before } = await this.waitFor(opts.prompt ?? GUEST_PROMPT, opts.timeoutMs);
    const end = findEcho(before, command);
    if (end < 0) throw new Error(`'${command}': command echo not found in console output:\n${before}`);
    const nl = before.indexOf('\n', end);
    return nl < 0 ? '' : before.slice(nl + 1);
  }

  /** The last `n` characters received, for error messages. */
  tail(n = 2000): string {
    return this.text.slice(-n);
  }
}

/**
 * End offset of the echo of `command` in `text`, or -1. The line editor wraps long lines at the
 * terminal width by inserting line breaks, and output of background jobs may precede the echo.
 */
export function findEcho(text: string, command: string): number {
  for (let start = text.indexOf(command[0] ?? ''); start >= 0; start = text.indexOf(command[0]!, start + 1)) {
    let i = start;
    let j = 0;
    while (j < command.length && i < text.length) {
      if (text[i] === command[j]) {
        i++;
        j++;
      } else if (text[i] === '\n' && j > 0) i++;
      else break;
    }
    if (j === command.length) return i;
  }
  return command === '' ? 0 : -1;
}

/** A VM process whose stdio is its serial console (e.g. `-nographic`). */
export interface SerialProcess {
  session: SerialSession;
  child: ChildProcess;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for exit up to `timeoutMs`; kills the process (SIGKILL) and rejects if it does not exit. */
  waitExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the process if it is still running. */
  kill(): void;
  /** stderr collected so far. */
  stderr(): string;
}

/** Starts `command args` with its stdin/stdout as the serial console. */
export function startSerialProcess(
  command: string,
  args: string[],
  opts: SerialSessionOptions = {},
): SerialProcess {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  exited.catch(() => {}); // observed through waitExit; avoid unhandled rejections when unused
  child.stdin!.on('error', () => {}); // writes after exit are not errors of the test
  const session = new SerialSession(child.stdin!, child.stdout!, opts);
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return {
    session,
    child,
    exited,
    kill,
    stderr: () => err,
    waitExit: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          kill();
          reject(
            new SerialTimeoutError(
              `${command} did not exit within ${timeoutMs} ms; last output:\n${session.tail()}`,
            ),
          );
        }, timeoutMs);
        exited.then(
          (r) => {
            clearTimeout(timer);
            resolve(r);
          },
          (e: unknown) => {
            clearTimeout(timer);
            reject(e);
          },
        );
      }),
  };
}
