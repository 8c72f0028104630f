/** Values crossing to the UI must be plain JSON: QMP's bigint integers become exact decimal strings. */
export function toWire(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toWire);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = toWire((v as Record<string, unknown>)[k]);
  return out;
}

/** An exception as the UI receives it. */
export function errorPayload(e: unknown): { errorClass: string; message: string } {
  if (e instanceof Error) {
    const cls = (e as { errorClass?: unknown }).errorClass;
    return { errorClass: typeof cls === 'string' ? cls : 'GenericError', message: e.message };
  }
  return { errorClass: 'GenericError', message: String(e) };
}
