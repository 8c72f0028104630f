/**
 * One booted default guest (assets/guests/debian-riscv64) on one engine, ours or QEMU, with the same
 * command line for both: serial console on stdio (-nographic) and a QMP socket. The boot is timed from
 * spawn to the shell prompt; the same guest then serves the idle, QMP and disk sections, so each
 * engine boots once.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DefaultGuest } from '../../assets/guests/debian-riscv64/build.js';
import { GUEST_PROMPT, startSerialProcess, type SerialProcess } from '../guest/serial-session.js';
import { QmpTestClient, type Json } from '../qmp/qmp-test-client.js';
import { ENGINE_BIN, QEMU } from './env.js';

export type EngineName = 'ours' | 'qemu';

export interface GuestBootOptions {
  engine: EngineName;
  guest: DefaultGuest;
  /** Initramfs to boot instead of the guest's own (e.g. with the disk bench tool appended). */
  initrd?: string;
  /** More command-line arguments (drives, devices). */
  extraArgs?: string[];
  /** Spawn-to-prompt limit (default 20 minutes for ours, 2 for QEMU). */
  timeoutMs?: number;
}

/** The machine's command line, shared by both engines. */
export function guestArgs(opts: GuestBootOptions, qmpPath: string): string[] {
  const g = opts.guest;
  return [
    ...['-M', 'virt', '-m', '512M', '-nographic', '-bios', g.firmware.fwDynamicBin],
    ...['-kernel', g.kernel, '-initrd', opts.initrd ?? g.initrd, '-append', g.append],
    ...(opts.extraArgs ?? []),
    ...['-qmp', `unix:${qmpPath},server=on,wait=off`],
  ];
}

async function connectQmp(path: string, vm: SerialProcess, timeoutMs: number): Promise<QmpTestClient> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (vm.child.exitCode !== null) throw new Error(`the VM exited before creating its QMP socket`);
    if (Date.now() > deadline) throw new Error(`no QMP socket ${path} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const qmp = await QmpTestClient.connect({ path });
  await qmp.until(() => qmp.messages[0], timeoutMs, 'QMP greeting');
  const r = await qmp.execute('qmp_capabilities');
  if (!('return' in r)) throw new Error(`qmp_capabilities failed: ${JSON.stringify(r)}`);
  return qmp;
}

export class BootedGuest {
  private constructor(
    readonly engine: EngineName,
    readonly vm: SerialProcess,
    readonly qmp: QmpTestClient,
    /** Spawn to the shell prompt on the console, in seconds. */
    readonly bootSeconds: number,
    private readonly dir: string,
  ) {}

  /** Host process id of the VM (the node process for ours). */
  get pid(): number {
    return this.vm.child.pid!;
  }

  /** Boots the guest and waits for its shell prompt; kills the VM if that fails. */
  static async boot(opts: GuestBootOptions): Promise<BootedGuest> {
    const dir = mkdtempSync(join(tmpdir(), `vmstudio-bench-${opts.engine}-`));
    const qmpPath = join(dir, 'qmp.sock');
    const args = guestArgs(opts, qmpPath);
    const timeoutMs = opts.timeoutMs ?? (opts.engine === 'ours' ? 1_200_000 : 120_000);
    const t0 = performance.now();
    const vm =
      opts.engine === 'ours'
        ? startSerialProcess(process.execPath, [ENGINE_BIN, ...args], { timeoutMs })
        : startSerialProcess(QEMU, args, { timeoutMs });
    const qmp = connectQmp(qmpPath, vm, 60_000);
    qmp.catch(() => {}); // awaited below, after the prompt
    try {
      await vm.session.waitFor(GUEST_PROMPT, timeoutMs);
      const bootSeconds = (performance.now() - t0) / 1000;
      return new BootedGuest(opts.engine, vm, await qmp, bootSeconds, dir);
    } catch (e) {
      vm.kill();
      void qmp.then(
        (c) => c.close(),
        () => {},
      );
      rmSync(dir, { recursive: true, force: true });
      const err = vm.stderr().trim();
      throw new Error(
        `${opts.engine}: guest did not boot: ${(e as Error).message}${err ? `\nstderr: ${err}` : ''}`,
      );
    }
  }

  /** Runs a shell command in the guest and returns its output. */
  sh(command: string, timeoutMs = 120_000): Promise<string> {
    return this.vm.session.run(command, { timeoutMs });
  }

  /**
   * Guest instructions retired so far, from our engine's `query-stats` (provider 'tcg', one
   * cumulative "instructions" counter per vCPU); undefined for QEMU, which counts none.
   */
  async instructions(): Promise<number | undefined> {
    if (this.engine !== 'ours') return undefined;
    const r = await this.qmp.execute('query-stats', { target: 'vcpu', providers: [{ provider: 'tcg' }] });
    const results = r['return'];
    if (!Array.isArray(results)) return undefined;
    let total = 0;
    for (const res of results as Array<{ [k: string]: Json }>) {
      for (const s of (res['stats'] as Array<{ [k: string]: Json }> | undefined) ?? [])
        if (s['name'] === 'instructions' && typeof s['value'] === 'number') total += s['value'];
    }
    return total;
  }

  /** `poweroff -f` in the guest; kills the VM if it has not exited a minute later. */
  async shutdown(): Promise<void> {
    try {
      await this.qmp.close();
      this.vm.session.sendLine('poweroff -f');
      await this.vm.waitExit(60_000);
    } finally {
      this.vm.kill();
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
