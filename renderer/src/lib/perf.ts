/** Helpers for the live load graphs: readable rates and SVG paths with gaps for unknown samples. */

/** Guest instructions per second, scaled: "850 IPS", "12.3 KIPS", "4.5 MIPS", "1.2 GIPS". */
export function formatIps(ips: number | null | undefined): string {
  if (ips === null || ips === undefined || !Number.isFinite(ips)) return '—';
  const units = ['IPS', 'KIPS', 'MIPS', 'GIPS'];
  let v = ips;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function formatCpu(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  return `${p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

/** A round upper bound for a chart's scale (1, 2 or 5 × 10^n), at least `floor`. */
export function niceMax(values: readonly (number | null)[], floor = 1): number {
  const m = Math.max(floor, ...values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const p = 10 ** Math.floor(Math.log10(m));
  for (const k of [1, 2, 5, 10]) if (k * p >= m) return k * p;
  return 10 * p;
}

/**
 * An SVG path through the values, right-aligned in a `slots`-wide window of `width` × `height`
 * (newest at the right edge); null values break the line.
 */
export function sparkPath(
  values: readonly (number | null)[],
  width: number,
  height: number,
  max: number,
  slots = values.length,
): string {
  if (slots < 2 || max <= 0) return '';
  const dx = width / (slots - 1);
  const start = slots - values.length;
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    const x = (start + i) * dx;
    const y = height - (Math.min(v, max) / max) * height;
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
    pen = true;
  });
  return d;
}
