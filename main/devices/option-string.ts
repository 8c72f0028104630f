/**
 * A hot-plugged device as a QEMU `-device` option string, for keeping it in the VM's configuration:
 * `driver,id=ID,prop=value` with QEMU's escaping (a ',' inside a value is written ',,').
 */
import { escapeOptionValue } from '../supervisor/cmdline.js';

export function deviceOptionString(
  driver: string,
  id: string | null,
  bus: string | null,
  properties: Record<string, string | number | boolean>,
): string {
  const parts = [driver];
  if (id) parts.push(`id=${id}`);
  if (bus) parts.push(`bus=${bus}`);
  for (const [k, v] of Object.entries(properties)) {
    parts.push(`${k}=${typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)}`);
  }
  return joinOptions(parts);
}

/** The option string of parts (the inverse of splitOptions): ',' inside a part is written ',,'. */
export function joinOptions(parts: readonly string[]): string {
  return parts.map(escapeOptionValue).join(',');
}

/** Split a QEMU option string into its parts, unescaping ',,'. */
export function splitOptions(option: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < option.length; i++) {
    const c = option[i]!;
    if (c !== ',') cur += c;
    else if (option[i + 1] === ',') {
      cur += ',';
      i++;
    } else {
      parts.push(cur);
      cur = '';
    }
  }
  parts.push(cur);
  return parts;
}

/** The `id=` of a `-device` option string (null if it has none). */
export function optionStringId(option: string): string | null {
  for (const p of splitOptions(option).slice(1)) if (p.startsWith('id=')) return p.slice(3);
  return null;
}
