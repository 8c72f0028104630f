/**
 * Disk throughput inside the guest: tests/bench/guest/diskbench.c, built static for riscv64, runs
 * O_DIRECT sequential and random I/O on a virtio-blk disk backed by a fresh raw image. The tool gets
 * into the guest as a second newc archive appended to a copy of the guest's initramfs (Linux unpacks
 * concatenated archives in order), so the guest build itself stays untouched.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { DefaultGuest } from '../../assets/guests/debian-riscv64/build.js';
import { CpioWriter } from '../../assets/guests/lib/cpio.js';
import { BENCH_CACHE, CROSS_CC, REPO } from './env.js';
import type { BootedGuest } from './guest-session.js';

/** Sequential area (MiB, written then read in 1 MiB requests) and random 4 KiB operations per kind. */
export const DISK_SEQ_MIB = 32;
export const DISK_RAND_OPS = 2000;
/** Size of the scratch image: room beyond the area the tool uses. */
const IMAGE_MIB = 64;
/** Where the tool lands in the guest (on PATH). */
const GUEST_TOOL = 'usr/bin/diskbench';

export interface DiskPhase {
  phase: 'seq-write' | 'seq-read' | 'rand-read' | 'rand-write';
  bytes: number;
  seconds: number;
  mbps: number;
  iops: number;
}

/** Compiles diskbench.c and writes the guest's initramfs with it appended; returns that initrd's path. */
export function buildDiskBenchInitrd(guest: DefaultGuest): string {
  mkdirSync(BENCH_CACHE, { recursive: true });
  const tool = join(BENCH_CACHE, 'diskbench');
  execFileSync(CROSS_CC, ['-static', '-O2', '-o', tool, join(REPO, 'tests/bench/guest/diskbench.c')], {
    stdio: 'pipe',
  });
  const extra = new CpioWriter().addFile(GUEST_TOOL, readFileSync(tool), { perm: 0o755 }).toBuffer();
  const base = readFileSync(guest.initrd);
  // A following archive starts on a 4-byte boundary; newc archives already end on one, pad anyway.
  const pad = Buffer.alloc((4 - (base.length % 4)) % 4);
  const out = join(BENCH_CACHE, `initrd-${guest.version}-diskbench.cpio`);
  writeFileSync(out, Buffer.concat([base, pad, extra]));
  return out;
}

/** A fresh sparse raw image in `dir`, and the arguments attaching it as the guest's /dev/vda. */
export function scratchDisk(dir: string): { image: string; args: string[] } {
  const image = join(dir, 'scratch.raw');
  writeFileSync(image, '');
  truncateSync(image, IMAGE_MIB * 1024 * 1024);
  return {
    image,
    args: ['-drive', `file=${image},format=raw,if=none,id=d0`, '-device', 'virtio-blk-device,drive=d0'],
  };
}

export function parseDiskBench(output: string): DiskPhase[] {
  const out: DiskPhase[] = [];
  for (const m of output.matchAll(/^diskbench (\S+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)\s*$/gm)) {
    out.push({
      phase: m[1] as DiskPhase['phase'],
      bytes: Number(m[2]),
      seconds: Number(m[3]),
      mbps: Number(m[4]),
      iops: Number(m[5]),
    });
  }
  return out;
}

/** Runs the tool on /dev/vda in the booted guest (which must have been booted with scratchDisk's args). */
export async function runDiskBench(g: BootedGuest): Promise<DiskPhase[]> {
  const output = await g.sh(`diskbench /dev/vda ${DISK_SEQ_MIB} ${DISK_RAND_OPS}`, 1_800_000);
  const phases = parseDiskBench(output);
  if (phases.length !== 4) throw new Error(`${g.engine}: diskbench did not complete:\n${output}`);
  return phases;
}
