/**
 * QemuOpts: the classic `name=value,...` option groups behind -m, -smp, -name, -device, -chardev
 * (QEMU's util/qemu-option.c). Unlike keyval (util/keyval.ts) it is flat, knows an option list's
 * descriptors, supports an implied first option ("-m 512M" = "-m size=512M"), short-form booleans with
 * QEMU's deprecation warning, and option groups identified by `id=`.
 */
import { QapiError } from '../qapi/error.js';
import { qdict, type QDict } from '../qobject/qobject.js';
import { parseSize, parseUint64 } from './cutils.js';

export type QemuOptType = 'string' | 'bool' | 'number' | 'size';

export interface QemuOptDesc {
  readonly name: string;
  readonly type: QemuOptType;
  readonly help?: string;
  readonly defValueStr?: string;
}

export interface QemuOptsList {
  readonly name: string;
  /** Name given to a leading value without '=' (e.g. "size" for -m). */
  readonly impliedOptName?: string;
  /** All occurrences merge into one group (e.g. -m given twice). */
  readonly mergeLists?: boolean;
  /** Empty: accepts any option name as a string (e.g. -device, whose properties qdev checks). */
  readonly desc: readonly QemuOptDesc[];
}

export interface QemuOpt {
  readonly name: string;
  readonly str: string;
  readonly desc: QemuOptDesc | undefined;
  readonly value: string | boolean | bigint;
}

const ID_HINT = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n";
const SIZE_HINT =
  'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n';

/** QEMU's id_wellformed(). */
export function idWellformed(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9\-._]*$/.test(id);
}

export function isHelpOption(s: string): boolean {
  return s === 'help' || s === '?';
}

/** One option group (QemuOpts). */
export class QemuOpts {
  readonly opts: QemuOpt[] = [];
  constructor(
    readonly list: QemuOptsList,
    public id: string | undefined,
  ) {}

  private find(name: string): QemuOpt | undefined {
    for (let i = this.opts.length - 1; i >= 0; i--) if (this.opts[i]!.name === name) return this.opts[i];
    return undefined;
  }

  get(name: string): string | undefined {
    const o = this.find(name);
    if (o) return o.str;
    return this.list.desc.find((d) => d.name === name)?.defValueStr;
  }

  getBool(name: string, defval: boolean): boolean {
    const o = this.find(name);
    return o ? (o.value as boolean) : defval;
  }

  getNumber(name: string, defval: bigint): bigint {
    const o = this.find(name);
    return o ? (o.value as bigint) : defval;
  }

  getSize(name: string, defval: bigint): bigint {
    return this.getNumber(name, defval);
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  hasHelpOption(): boolean {
    return this.opts.some((o) => isHelpOption(o.name));
  }

  /** Names in first-set order, each once (last value wins), as qemu_opts_to_qdict gives them. */
  toQDict(): QDict {
    const d = qdict();
    if (this.id !== undefined) d['id'] = this.id;
    for (const o of this.opts) d[o.name] = o.str;
    return d;
  }

  /** Set one option, validating against the list's descriptors. */
  set(name: string, str: string): void {
    const desc = this.list.desc.find((d) => d.name === name);
    if (this.list.desc.length > 0 && !desc) throw new QapiError(`Invalid parameter '${name}'`);
    const value = desc ? parseOptValue(desc, name, str) : str;
    this.opts.push({ name, str, desc, value });
  }
}

function parseOptValue(desc: QemuOptDesc, name: string, str: string): string | boolean | bigint {
  switch (desc.type) {
    case 'string':
      return str;
    case 'bool':
      return parseOptionBool(name, str);
    case 'number': {
      const n = parseUint64(str);
      if (n === null) throw new QapiError(`Parameter '${name}' expects a number`);
      return n;
    }
    case 'size': {
      const r = parseSize(str);
      if (r === 'range') throw new QapiError(`Value '${str}' is out of range for parameter '${name}'`);
      if (r === null) {
        const e = new QapiError(`Parameter '${name}' expects a non-negative number below 2^64`);
        e.hint = SIZE_HINT;
        throw e;
      }
      return r;
    }
  }
}

/** qapi_bool_parse(): the spellings QEMU accepts for booleans. */
export function parseOptionBool(name: string, str: string): boolean {
  if (str === 'on' || str === 'yes' || str === 'true' || str === 'y') return true;
  if (str === 'off' || str === 'no' || str === 'false' || str === 'n') return false;
  throw new QapiError(`Parameter '${name}' expects 'on' or 'off'`);
}

/** A parsed `name[=value]` element and where the parse continues. */
interface NameValue {
  name: string;
  value: string;
  /** Short-form flag without '=' ("foo" meaning foo=on, "nofoo" foo=off): the text as written. */
  flag: boolean;
  written?: string;
}

/** get_opt_value(): up to an unescaped ',' (",," is a literal comma). */
function readValue(s: string, pos: number): [string, number] {
  let out = '';
  while (pos < s.length) {
    const c = s[pos]!;
    if (c === ',') {
      if (s[pos + 1] !== ',') break;
      pos++;
    }
    out += s[pos];
    pos++;
  }
  return [out, pos];
}

/** Split a parameter string into elements the way opts_do_parse() walks it. */
export function splitQemuOptsParams(params: string, firstName?: string): NameValue[] {
  const out: NameValue[] = [];
  let pos = 0;
  let first = true;
  while (pos < params.length) {
    const rest = params.slice(pos);
    const len = rest.search(/[=,]/);
    const delimAt = len < 0 ? rest.length : len;
    if (rest[delimAt] !== '=') {
      if (first && firstName !== undefined) {
        const [value, end] = readValue(params, pos);
        out.push({ name: firstName, value, flag: false });
        pos = end;
      } else {
        const option = rest.slice(0, delimAt);
        pos += delimAt;
        if (option.startsWith('no') && !isHelpOption(option)) {
          out.push({ name: option.slice(2), value: 'off', flag: true, written: option });
        } else {
          out.push({ name: option, value: 'on', flag: true, written: option });
        }
      }
    } else {
      const name = rest.slice(0, delimAt);
      const [value, end] = readValue(params, pos + delimAt + 1);
      out.push({ name, value, flag: false });
      pos = end;
    }
    if (params[pos] === ',') pos++;
    first = false;
  }
  return out;
}

export interface QemuOptsParseResult {
  opts: QemuOpts;
  help: boolean;
  /** Deprecation warnings to print (short-form booleans). */
  warnings: string[];
}

/** All groups of all known lists (QEMU's vm_config_groups). */
export class QemuOptsRegistry {
  private readonly groups = new Map<string, { list: QemuOptsList; all: QemuOpts[] }>();

  register(list: QemuOptsList): void {
    this.groups.set(list.name, { list, all: [] });
  }

  list(name: string): QemuOptsList {
    const g = this.groups.get(name);
    if (!g) throw new Error(`qemu-option: no option list '${name}'`);
    return g.list;
  }

  all(name: string): readonly QemuOpts[] {
    return this.groups.get(name)?.all ?? [];
  }

  find(name: string, id: string | undefined): QemuOpts | undefined {
    return this.groups.get(name)?.all.find((o) => o.id === id);
  }

  /**
   * qemu_opts_parse_noisily(): parse `params` into a (new or merged) group of list `name`.
   * `impliedFirst` says whether the list's implied option name applies (permit_abbrev).
   */
  parse(name: string, params: string, impliedFirst = true): QemuOptsParseResult {
    const g = this.groups.get(name);
    if (!g) throw new Error(`qemu-option: no option list '${name}'`);
    const list = g.list;
    const elems = splitQemuOptsParams(params, impliedFirst ? list.impliedOptName : undefined);
    const warnings: string[] = [];
    let help = false;
    let id: string | undefined;
    for (const e of elems) {
      if (e.flag && isHelpOption(e.name)) {
        help = true;
        continue;
      }
      if (e.flag) {
        warnings.push(
          `short-form boolean option '${e.written}' deprecated\nPlease use ${e.name}=${e.value} instead`,
        );
      }
      if (e.name === 'id') id = e.value;
    }
    if (id !== undefined && !idWellformed(id)) {
      const err = new QapiError("Parameter 'id' expects an identifier");
      err.hint = ID_HINT;
      throw Object.assign(err, { warnings });
    }
    let opts: QemuOpts;
    let created = false;
    if (list.mergeLists) {
      opts = g.all[0] ?? ((created = true), new QemuOpts(list, id));
    } else {
      if (id !== undefined && g.all.some((o) => o.id === id)) {
        throw Object.assign(new QapiError(`Duplicate ID '${id}' for ${list.name}`), { warnings });
      }
      opts = new QemuOpts(list, id);
      created = true;
    }
    try {
      for (const e of elems) {
        if (e.name === 'id' || (e.flag && isHelpOption(e.name))) continue;
        opts.set(e.name, e.value);
      }
    } catch (err) {
      throw Object.assign(err as Error, { warnings });
    }
    if (created) g.all.push(opts);
    return { opts, help, warnings };
  }
}
