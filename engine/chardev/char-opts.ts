/**
 * Chardev options from the command line: `-chardev socket,id=x,path=...,server=on,wait=off`
 * (QemuOpts syntax, QEMU's qemu_chardev_opts) and the legacy forms `-qmp unix:/p,server,nowait`,
 * `tcp:127.0.0.1:4444,server,nowait`, `stdio`, `null`, `file:/p` (qemu_chr_parse_compat).
 * The result is a ChardevBackend, the same union chardev-add receives, so both paths open devices
 * the same way.
 */
import { QapiError } from '../qapi/error.js';
import type { ChardevBackend, ChardevCommon, ChardevSocket, SocketAddressLegacy } from './char.js';
import { chrReport } from './report.js';
import { parseSize, parseUint64 } from '../util/cutils.js';
import {
  QemuOpts,
  type QemuOptsList,
  idWellformed,
  isHelpOption,
  parseOptionBool,
  splitQemuOptsParams,
} from '../util/qemu-option.js';

/** qemu_chardev_opts (Linux build): the options -chardev accepts and their types. */
const CHARDEV_OPTS_LIST: QemuOptsList = {
  name: 'chardev',
  impliedOptName: 'backend',
  desc: (
    [
      ['backend', 'string'],
      ['path', 'string'],
      ['input-path', 'string'],
      ['host', 'string'],
      ['port', 'string'],
      ['fd', 'string'],
      ['localaddr', 'string'],
      ['localport', 'string'],
      ['to', 'number'],
      ['ipv4', 'bool'],
      ['ipv6', 'bool'],
      ['wait', 'bool'],
      ['server', 'bool'],
      ['delay', 'bool'],
      ['nodelay', 'bool'],
      ['reconnect', 'number'],
      ['telnet', 'bool'],
      ['tn3270', 'bool'],
      ['tls-creds', 'string'],
      ['tls-authz', 'string'],
      ['websocket', 'bool'],
      ['width', 'number'],
      ['height', 'number'],
      ['cols', 'number'],
      ['rows', 'number'],
      ['mux', 'bool'],
      ['signal', 'bool'],
      ['name', 'string'],
      ['debug', 'number'],
      ['size', 'size'],
      ['chardev', 'string'],
      ['append', 'bool'],
      ['logfile', 'string'],
      ['logappend', 'bool'],
      ['mouse', 'bool'],
      ['clipboard', 'bool'],
      ['tight', 'bool'],
      ['abstract', 'bool'],
    ] as const
  ).map(([name, type]) => ({ name, type })),
};

/** A parsed option group: its id and options (a later duplicate wins, as qemu_opt_get does). */
export interface ChardevOpts {
  id: string | null;
  opts: Map<string, string>;
  /** "help" or "?" was given. */
  help: boolean;
}

/**
 * Parse a QemuOpts string with the shared QemuOpts splitter and value checks (util/qemu-option.ts).
 * `implied` names the first option when it has no "=" (chardev: "backend").
 * `warnOnFlag`: warn about short-form booleans ("server", "nowait"), as -chardev does since 6.0;
 * the legacy -qmp/-serial forms parse without the warning.
 */
export function parseChardevOpts(
  params: string,
  implied: string | null,
  warnOnFlag: boolean,
  into?: ChardevOpts,
): ChardevOpts {
  const res: ChardevOpts = into ?? { id: null, opts: new Map(), help: false };
  // Validates each value against its descriptor, with QemuOpts' error texts.
  const checker = new QemuOpts(CHARDEV_OPTS_LIST, undefined);
  for (const e of splitQemuOptsParams(params, implied ?? undefined)) {
    if (e.flag && isHelpOption(e.name)) {
      res.help = true;
      continue;
    }
    if (e.flag && warnOnFlag) warnShortForm(e.written ?? e.name, e.name, e.value);
    if (e.name === 'id') {
      if (!idWellformed(e.value)) {
        const err = new QapiError("Parameter 'id' expects an identifier");
        err.hint = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n";
        throw err;
      }
      res.id = e.value;
      continue;
    }
    checker.set(e.name, e.value);
    res.opts.set(e.name, e.value);
  }
  return res;
}

function warnShortForm(given: string, name: string, value: string): void {
  const hint =
    name === 'delay'
      ? `Please use nodelay=${given.startsWith('no') ? 'on' : 'off'} instead`
      : `Please use ${name}=${value} instead`;
  chrReport('warning', `short-form boolean option '${given}' deprecated\n${hint}`);
}

/** A number option the parser already checked (qemu_opt_get_number). */
function parseNumber(v: string): number {
  return Number(parseUint64(v) ?? 0n);
}

/** A size option the parser already checked (qemu_opt_get_size). */
function parseSizeOpt(v: string): number {
  const n = parseSize(v);
  return typeof n === 'bigint' ? Number(n) : 0;
}

function getBool(o: ChardevOpts, name: string): boolean | undefined {
  const v = o.opts.get(name);
  return v === undefined ? undefined : parseOptionBool(name, v);
}

function getNumber(o: ChardevOpts, name: string): number | undefined {
  const v = o.opts.get(name);
  return v === undefined ? undefined : parseNumber(v);
}

/**
 * Legacy chardev syntax (qemu_chr_parse_compat). Returns the option group with id `label`.
 * Throws with QEMU's message for an unknown form.
 */
export function chrParseCompat(label: string, filename: string, permitMuxMon: boolean): ChardevOpts {
  const o: ChardevOpts = { id: label, opts: new Map(), help: false };
  let f = filename;
  if (f.startsWith('mon:')) {
    if (!permitMuxMon) throw new QapiError("mon: isn't supported in this context");
    f = f.slice(4);
    o.opts.set('mux', 'on');
    if (f === 'stdio') o.opts.set('signal', 'off');
  }
  if (['null', 'pty', 'msmouse', 'wctablet', 'braille', 'testdev', 'stdio'].includes(f)) {
    o.opts.set('backend', f);
    return o;
  }
  if (f.startsWith('vc')) {
    o.opts.set('backend', 'vc');
    return o;
  }
  const prefixed = (p: string): string | null => (f.startsWith(p) ? f.slice(p.length) : null);
  let rest: string | null;
  if ((rest = prefixed('file:')) !== null) {
    o.opts.set('backend', 'file');
    o.opts.set('path', rest);
    return o;
  }
  if ((rest = prefixed('pipe:')) !== null || (rest = prefixed('pty:')) !== null) {
    o.opts.set('backend', f.startsWith('pipe:') ? 'pipe' : 'pty');
    o.opts.set('path', rest);
    return o;
  }
  for (const proto of ['tcp:', 'telnet:', 'tn3270:', 'websocket:']) {
    if ((rest = prefixed(proto)) === null) continue;
    // "%64[^:]:%32[^,]" or ":%32[^,]"
    const m = /^([^:]{0,64}):([^,]{1,32})(.*)$/.exec(rest);
    if (!m) throw new QapiError(`'${filename}' is not a valid char driver`);
    o.opts.set('backend', 'socket');
    o.opts.set('host', m[1]!);
    o.opts.set('port', m[2]!);
    const tail = m[3]!;
    if (tail.startsWith(',')) parseChardevOpts(tail.slice(1), null, false, o);
    else if (tail !== '') throw new QapiError(`'${filename}' is not a valid char driver`);
    if (proto !== 'tcp:') o.opts.set(proto.slice(0, -1), 'on');
    return o;
  }
  if ((rest = prefixed('unix:')) !== null) {
    o.opts.set('backend', 'socket');
    parseChardevOpts(rest, 'path', false, o);
    return o;
  }
  if (f.startsWith('/dev/parport') || f.startsWith('/dev/ppi')) {
    o.opts.set('backend', 'parallel');
    o.opts.set('path', f);
    return o;
  }
  if (f.startsWith('/dev/')) {
    o.opts.set('backend', 'serial');
    o.opts.set('path', f);
    return o;
  }
  throw new QapiError(`'${filename}' is not a valid char driver`);
}

/** Backends this engine implements (query-chardev-backends, "-chardev help"). */
export const CHARDEV_BACKEND_NAMES = ['file', 'memory', 'null', 'ringbuf', 'socket', 'stdio'] as const;

/** "-chardev help" text. */
export function chardevHelpText(): string {
  return `Available chardev backend types: ${CHARDEV_BACKEND_NAMES.map((n) => `\n  ${n}`).join('')}\n`;
}

function parseCommon(o: ChardevOpts): ChardevCommon {
  const c: ChardevCommon = {};
  const logfile = o.opts.get('logfile');
  if (logfile !== undefined) c.logfile = logfile;
  c.logappend = getBool(o, 'logappend') ?? false;
  return c;
}

/** qemu_chr_parse_socket. */
function parseSocket(o: ChardevOpts): ChardevSocket {
  const path = o.opts.get('path');
  const host = o.opts.get('host');
  const port = o.opts.get('port');
  const fd = o.opts.get('fd');
  if (Number(!!path) + Number(!!fd) + Number(!!host) > 1) {
    throw new QapiError("None or one of 'path', 'fd' or 'host' option required.");
  }
  if (host && !port) throw new QapiError('chardev: socket: no port given');
  if (o.opts.has('delay') && o.opts.has('nodelay')) {
    throw new QapiError("'delay' and 'nodelay' are mutually exclusive");
  }
  let addr: SocketAddressLegacy;
  if (path) {
    addr = {
      type: 'unix',
      data: { path, tight: getBool(o, 'tight') ?? true, abstract: getBool(o, 'abstract') ?? false },
    };
  } else if (host !== undefined) {
    const data: SocketAddressLegacy & { type: 'inet' } = { type: 'inet', data: { host, port: port! } };
    const to = getNumber(o, 'to');
    if (to !== undefined) data.data.to = to;
    const v4 = getBool(o, 'ipv4');
    if (v4 !== undefined) data.data.ipv4 = v4;
    const v6 = getBool(o, 'ipv6');
    if (v6 !== undefined) data.data.ipv6 = v6;
    addr = data;
  } else {
    if (fd === undefined) throw new QapiError('chardev: socket: no host given');
    addr = { type: 'fd', data: { str: fd } };
  }
  const sock: ChardevSocket = { ...parseCommon(o), addr };
  if (o.opts.has('delay') || o.opts.has('nodelay')) {
    sock.nodelay = getBool(o, 'delay') === false || getBool(o, 'nodelay') === true;
  }
  // The command line's 'server' defaults to off (QMP's to on); 'wait' defaults to on for a server.
  sock.server = getBool(o, 'server') ?? false;
  for (const k of ['telnet', 'tn3270', 'websocket'] as const) {
    const v = getBool(o, k);
    if (v !== undefined) sock[k] = v;
  }
  if (o.opts.has('wait') || sock.server) sock.wait = getBool(o, 'wait') ?? true;
  const reconnect = getNumber(o, 'reconnect');
  if (reconnect !== undefined) sock.reconnect = reconnect;
  const creds = o.opts.get('tls-creds');
  if (creds !== undefined) sock['tls-creds'] = creds;
  const authz = o.opts.get('tls-authz');
  if (authz !== undefined) sock['tls-authz'] = authz;
  return sock;
}

/**
 * qemu_chr_parse_opts: the option group → ChardevBackend. Throws QEMU's messages for a missing or
 * unknown backend or bad backend options.
 */
export function chardevBackendFromOpts(o: ChardevOpts): ChardevBackend {
  const name = o.opts.get('backend');
  if (name === undefined) throw new QapiError(`chardev: "${o.id ?? ''}" missing backend`);
  switch (name) {
    case 'socket':
      return { type: 'socket', data: parseSocket(o) };
    case 'file': {
      const path = o.opts.get('path');
      if (path === undefined) throw new QapiError('chardev: file: no filename given');
      const data: ChardevBackend & { type: 'file' } = {
        type: 'file',
        data: { ...parseCommon(o), out: path },
      };
      const inPath = o.opts.get('input-path');
      if (inPath !== undefined) data.data.in = inPath;
      const append = getBool(o, 'append');
      if (append !== undefined) data.data.append = append;
      return data;
    }
    case 'stdio': {
      const signal = getBool(o, 'signal');
      return { type: 'stdio', data: signal === undefined ? parseCommon(o) : { ...parseCommon(o), signal } };
    }
    case 'ringbuf':
    case 'memory': {
      const size = o.opts.get('size');
      const n = size === undefined ? 0 : parseSizeOpt(size);
      return { type: name, data: n !== 0 ? { ...parseCommon(o), size: n } : parseCommon(o) };
    }
    case 'null':
      return { type: 'null', data: parseCommon(o) };
    default:
      throw new QapiError(`'${name}' is not a valid char driver name`);
  }
}
