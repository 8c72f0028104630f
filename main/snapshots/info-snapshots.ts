/**
 * Parse HMP `info snapshots` (QEMU's bdrv_snapshot_dump rows) into tags, dates and sizes: the
 * engine's own view of which snapshots exist, used to reconcile the library while a VM runs.
 *
 *   List of snapshots present on all disks:
 *   ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT
 *   --        snap1            40.7 MiB 2026-11-21 23:42:21 00:00:09.768
 *
 * A long tag pushes the other columns right, so rows are read from the right end, not by column.
 */

export interface EngineSnapshot {
  tag: string;
  /** Local time as printed, in ms since the epoch (second resolution). */
  createdAt: number;
  /** VM SIZE as printed ("40.7 MiB"): approximate, 3 significant digits. */
  vmStateSize: number;
}

const UNITS: Record<string, number> = {
  B: 1,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
  PiB: 2 ** 50,
  EiB: 2 ** 60,
};

const ROW =
  /^(\S+)\s+(.*?)\s+([0-9.]+(?:e[+-]?\d+)?) (B|KiB|MiB|GiB|TiB|PiB|EiB)\s+(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\s+\d+:\d\d:\d\d\.\d{3}(?:\s+\d+)?\s*$/;

export function parseInfoSnapshots(text: string): EngineSnapshot[] {
  const out: EngineSnapshot[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const m = ROW.exec(raw);
    if (!m) continue;
    const [, , tag, num, unit, y, mo, d, h, mi, s] = m;
    out.push({
      tag: tag!,
      createdAt: new Date(+y!, +mo! - 1, +d!, +h!, +mi!, +s!).getTime(),
      vmStateSize: Math.round(Number(num) * UNITS[unit!]!),
    });
  }
  return out;
}

/** The engine answered but has no snapshot ("There is no snapshot available."). */
export function isEmptyInfoSnapshots(text: string): boolean {
  return /There is no snapshot available/.test(text);
}
