/**
 * Shared set-up of the tests that boot VM Studio's default Debian guest on OUR engine's `virt`
 * machine (each boot takes 20-60 s or far longer on a loaded host, so every test file boots as few
 * times as it can): the guest's files (or the reason a test is skipped), the command line, a boot
 * that resolves at the shell prompt, the shell and QMP once it is there, and a clean power-off.
 * The same command line and boot also drive real QEMU (`command: 'qemu-system-riscv64'`), so a test
 * can compare the two.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DefaultGuest } from '../../assets/guests/debian-riscv64/build.js';
import { defaultGuestForBootTests, guestBootTestsGated } from '../helpers/guest-boot.js';
import { GUEST_PROMPT, startSerialProcess, type SerialProcess } from '../guest/serial-session.js';
import { QmpTestClient, type Json } from '../qmp/qmp-test-client.js';

export const ENGINE_MAIN = join(import.meta.dirname, 'engine-main.ts');

let guest: DefaultGuest | undefined;
let skipReason = '';
let ready: Promise<void> | undefined;
/** Looks the guest up once, on first use (importing this module starts nothing). */
function lookUpGuest(): Promise<void> {
  ready ??= defaultGuestForBootTests().then(
    (g) => void (guest = g),
    (e: unknown) =>
      void (skipReason = guestBootTestsGated()
        ? (e as Error).message
        : `default guest not available offline (build it with npx tsx assets/guests/debian-riscv64/build.ts): ${(e as Error).message}`),
  );
  return ready;
}

/** Where a host program is installed in the system's bin folders (sbin ones too, which a user's PATH may lack). */
export function hostToolPath(name: string): string | null {
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin'])
    if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

export const hasHostTool = (name: string): boolean => hostToolPath(name) !== null;

/** Runs a host program and returns its stdout; throws (with its stderr) when it fails. */
export function hostRun(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export const hostSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The default guest, or skips the test with the reason: the guest is not built, guest boots are
 * turned off (VMSTUDIO_GUEST_BOOT_TESTS=0), or one of `hostTools` is not installed.
 */
export async function needGuest(
  ctx: { skip: (note?: string) => never },
  opts: { hostTools?: string[] } = {},
): Promise<DefaultGuest> {
  await lookUpGuest();
  const missing = (opts.hostTools ?? []).filter((t) => !hasHostTool(t));
  const why = !guest ? skipReason : missing.length ? `missing host tools: ${missing.join(', ')}` : '';
  if (why) {
    console.warn(why);
    ctx.skip(why);
  }
  return guest!;
}

export interface GuestArgsOptions {
  /** The -bios value; undefined passes the guest's own fw_dynamic.bin. */
  bios?: string;
  /** The -m value (default 512M). */
  memory?: string;
  /** More options after the guest's (devices, drives, -smp, -qmp, ...). */
  extra?: string[];
}

/** `-M virt -m 512M -nographic -bios <firmware> -kernel ... -initrd ... -append ... <extra>`: QEMU's own syntax. */
export function guestMachineArgs(g: DefaultGuest, opts: GuestArgsOptions = {}): string[] {
  return [
    '-M',
    'virt',
    '-m',
    opts.memory ?? '512M',
    '-nographic',
    '-bios',
    opts.bios ?? g.firmware.fwDynamicBin,
    '-kernel',
    g.kernel,
    '-initrd',
    g.initrd,
    '-append',
    g.append,
    ...(opts.extra ?? []),
  ];
}

/** node's arguments that run our engine from source with these QEMU arguments. */
export function engineArgs(qemuArgs: string[]): string[] {
  return ['--import', 'tsx', ENGINE_MAIN, ...qemuArgs];
}

/** `node --import tsx engine-main.ts` + guestMachineArgs: the guest on our engine. */
export function guestEngineArgs(g: DefaultGuest, opts: GuestArgsOptions = {}): string[] {
  return engineArgs(guestMachineArgs(g, opts));
}

/** `-qmp unix:<path>,server=on,wait=off`: a QMP server on a Unix socket that does not hold up the start. */
export function qmpSocketArgs(path: string): string[] {
  return ['-qmp', `unix:${path},server=on,wait=off`];
}

export interface BootOptions {
  /** The program (default: node, for args from guestEngineArgs); e.g. 'qemu-system-riscv64'. */
  command?: string;
  /** Default timeout of the console session's waits and `run`s (ms; default 120 s). */
  timeoutMs?: number;
  /** How long the whole boot to the prompt may take (ms; default 39 min, for a loaded host). */
  bootTimeoutMs?: number;
  /** Called with each cleaned chunk of console output (to watch the console while debugging). */
  onData?: (text: string) => void;
}

/**
 * What the console shows on the way to the prompt, in order: a failed boot names the stage that did
 * not come. The firmware's banner comes at once (a start that hangs fails within 2 minutes); the
 * later stages share what is left of the boot's time.
 */
const BOOT_STAGES: Array<[RegExp | string, number]> = [
  ['OpenSBI', 120_000],
  [/Linux version \S+/, Infinity],
  [/VM Studio guest ready \(riscv64, Linux \S+\)/, Infinity],
  [GUEST_PROMPT, Infinity],
];
const DEFAULT_BOOT_MS = 2_340_000;

/** Names the process in error messages: `engine` for ours, else the program's name. */
function processLabel(command: string): string {
  return command === process.execPath ? 'engine' : basename(command);
}

/**
 * Starts the VM with `args` (from guestEngineArgs, or guestMachineArgs with `command`) and waits
 * for the guest's shell prompt; on failure the process is killed and the error carries its stderr.
 */
export async function bootToPrompt(
  args: string[],
  opts: BootOptions = {},
): Promise<{ vm: SerialProcess; ms: number }> {
  const command = opts.command ?? process.execPath;
  const t0 = performance.now();
  const deadline = t0 + (opts.bootTimeoutMs ?? DEFAULT_BOOT_MS);
  const vm = startSerialProcess(command, args, { timeoutMs: opts.timeoutMs ?? 120_000, onData: opts.onData });
  try {
    for (const [pattern, ms] of BOOT_STAGES)
      await vm.session.waitFor(pattern, Math.max(1, Math.min(ms, deadline - performance.now())));
  } catch (e) {
    vm.kill();
    throw new Error(`${(e as Error).message}\n${processLabel(command)} stderr: ${vm.stderr()}`);
  }
  return { vm, ms: performance.now() - t0 };
}

/**
 * Boots to the prompt (bootToPrompt), runs `body` with the VM and the boot's duration, and kills
 * the process after. A failure of `body` carries what `diagnose` finds out (e.g. the guest's dmesg)
 * and the process's stderr.
 */
export async function withGuestAtPrompt<T>(
  args: string[],
  body: (vm: SerialProcess, bootMs: number) => Promise<T>,
  opts: BootOptions & { diagnose?: (vm: SerialProcess) => Promise<string> } = {},
): Promise<T> {
  const { vm, ms } = await bootToPrompt(args, opts);
  try {
    return await body(vm, ms);
  } catch (e) {
    const more = opts.diagnose
      ? await opts.diagnose(vm).catch((d: unknown) => `(${(d as Error).message})`)
      : '';
    const label = processLabel(opts.command ?? process.execPath);
    throw new Error(`${(e as Error).message}${more ? `\n${more}` : ''}\n${label} stderr: ${vm.stderr()}`);
  } finally {
    vm.kill();
  }
}

/** A shell command's output at the guest's prompt, with `timeoutMs` unless a call says otherwise. */
export function guestShell(
  vm: SerialProcess,
  timeoutMs: number,
): (command: string, ms?: number) => Promise<string> {
  return (command, ms = timeoutMs) => vm.session.run(command, { timeoutMs: ms });
}

/** `poweroff -f` at the prompt; how the process exited (a clean power-off is code 0, no signal). */
export function powerOff(
  vm: SerialProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  vm.session.sendLine('poweroff -f');
  return vm.waitExit(timeoutMs);
}

/** A negotiated QMP connection on a `qmpSocketArgs` socket, once the VM has created it. */
export async function openQmp(path: string, timeoutMs = 60_000): Promise<QmpTestClient> {
  for (const end = Date.now() + timeoutMs; !existsSync(path); await hostSleep(100))
    if (Date.now() > end) throw new Error(`no QMP socket at ${path} after ${timeoutMs} ms`);
  const q = await QmpTestClient.connect({ path });
  await q.negotiate();
  return q;
}

let qmpIds = 0;

/**
 * A QMP command's return value; throws with the command and its error. Waits up to `timeoutMs`
 * (default 10 min: savevm, loadvm and migrate work through the guest's whole memory in one go).
 */
export async function qmpReturn(
  q: QmpTestClient,
  command: string,
  args?: { [k: string]: Json },
  timeoutMs = 600_000,
): Promise<Json> {
  const id = `g${qmpIds++}`;
  q.send(`${JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id })}\n`);
  const r = await q.reply(id, timeoutMs);
  if ('error' in r) throw new Error(`${command}: ${JSON.stringify(r['error'])}`);
  return r['return']!;
}
