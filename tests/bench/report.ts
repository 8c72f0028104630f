/** The benchmark's figures and how they are printed: ours, QEMU's, and how far apart they are. */

/** One figure measured on both engines. */
export interface Measure {
  section: string;
  label: string;
  unit: string;
  ours?: number;
  qemu?: number;
  /** Whether a smaller value is better (times, latencies, CPU use) or a larger one (throughput). */
  better: 'lower' | 'higher';
  /** The goal, printed next to the ratio. */
  target?: string;
  /** How the ratio reads when ours is worse / better (default "slower" / "faster"). */
  words?: [string, string];
  /** Decimal places for the values (default 2). */
  digits?: number;
}

/** A section that could not run for a reason the user can fix (missing tool, guest not built). */
export class SectionSkipped extends Error {
  override readonly name = 'SectionSkipped';
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Nearest-rank percentile (p in 0..100) of a non-empty sample. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * "12.3x slower" / "1.5x faster" (than QEMU): the factor between ours and QEMU's figure, named by
 * the direction in which ours differs.
 */
export function ratioText(m: Measure): string | undefined {
  if (m.ours === undefined || m.qemu === undefined) return undefined;
  if (m.ours === 0 || m.qemu === 0) return m.ours === m.qemu ? 'same' : undefined;
  const [worseWord, betterWord] = m.words ?? ['slower', 'faster'];
  const worse = m.better === 'lower' ? m.ours / m.qemu : m.qemu / m.ours;
  return worse >= 1 ? `${worse.toFixed(1)}x ${worseWord}` : `${(1 / worse).toFixed(1)}x ${betterWord}`;
}

function value(v: number | undefined, m: Measure): string {
  return v === undefined ? 'n/a' : `${v.toFixed(m.digits ?? 2)} ${m.unit}`;
}

export function formatMeasure(m: Measure): string {
  const ratio = ratioText(m);
  return (
    `${m.section} ${m.label}: ours ${value(m.ours, m)}, qemu ${value(m.qemu, m)}` +
    (ratio ? ` -> ${ratio} than QEMU` : '') +
    (m.target ? ` (target: ${m.target})` : '')
  );
}

/** The closing table: one row per figure. */
export function formatTable(ms: Measure[]): string {
  const rows = ms.map((m) => [
    m.section,
    m.label,
    value(m.ours, m),
    value(m.qemu, m),
    ratioText(m) ?? '',
    m.target ?? '',
  ]);
  const head = ['section', 'figure', 'ours', 'qemu 7.2', 'ours vs qemu', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
