/**
 * QEMU's device model list, HMP `info qdm` (qdev_print_devinfos with no-user devices shown): one line
 * per type, `name "T", bus B, alias "A", desc "D", no-user`. It is the only place QEMU states a type's
 * bus type and whether it is user-creatable; an engine without the command gives no entries.
 */
export interface QdmEntry {
  name: string;
  bus: string | null;
  alias: string | null;
  desc: string | null;
  userCreatable: boolean;
}

const LINE = /^name "((?:[^"\\]|\\.)*)"(.*)$/;

export function parseQdm(text: string): Map<string, QdmEntry> {
  const out = new Map<string, QdmEntry>();
  for (const raw of text.split('\n')) {
    const m = LINE.exec(raw.trim());
    if (!m) continue;
    const rest = m[2]!;
    const quoted = (key: string) => new RegExp(`, ${key} "((?:[^"\\\\]|\\\\.)*)"`).exec(rest)?.[1] ?? null;
    out.set(m[1]!, {
      name: m[1]!,
      bus: /, bus ([^\s,]+)/.exec(rest)?.[1] ?? null,
      alias: quoted('alias'),
      desc: quoted('desc'),
      userCreatable: !/, no-user\s*$/.test(rest),
    });
  }
  return out;
}
