/**
 * KEY=VALUE,... parsing for -object, -device (JSON-less), -blockdev, -audiodev and friends
 * (QEMU's util/keyval.c, QEMU 7.2).
 *
 * Syntax: `key=value,key2=value2`; ",," in a value stands for one comma; dotted keys build nested
 * dictionaries (`a.b=1` -> {"a": {"b": "1"}}); numeric fragments build lists (`a.0=x,a.1=y` ->
 * {"a": ["x", "y"]}, any order, no gaps). Key fragments are QAPI names (or digits after the first),
 * 1..127 characters. With an implied key the first item may be a bare value (`-m 512` style), which
 * can then contain neither ',' nor '='. A bare "help" or "?" item asks for help. The last of
 * repeated keys wins. Scalars are always strings: the keyval input visitor parses them.
 * Every error text is QEMU's.
 */
import { QapiError, errorSetg } from '../qapi/error.js';
import { isQDict, qdict, qdictHas, type QDict, type QList, type QObject } from '../qobject/qobject.js';

export interface KeyvalResult {
  dict: QDict;
  /** A "help" or "?" item was present. */
  help: boolean;
}

const INT_MAX = 2147483647;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z]$/.test(c);
const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAlpha(c);

/**
 * key_to_index(): leading decimal digits as a list index capped at INT_MAX, or -1 when `s` does not
 * start with a digit. With `wantEnd` returns where the digits stop; otherwise anything after them
 * makes it -1.
 */
function keyToIndex(s: string, pos = 0, wantEnd = false): { index: number; end: number } {
  if (!isDigit(s[pos])) return { index: -1, end: pos };
  let end = pos;
  while (isDigit(s[end])) end++;
  if (!wantEnd && end < s.length) return { index: -1, end };
  const n = Number(s.slice(pos, end));
  return { index: n <= INT_MAX ? n : INT_MAX, end };
}

/** parse_qapi_name(str + pos, false): length of the QAPI name there, or -1. */
export function parseQapiName(str: string, pos = 0, complete = false): number {
  let p = pos;
  if (str[p] === '_') {
    // Downstream extension prefix __RFQDN_
    p++;
    if (str[p] !== '_') return -1;
    p++;
    while (p < str.length && (isAlnum(str[p]) || str[p] === '-' || str[p] === '.')) p++;
    if (str[p] !== '_') return -1;
    p++;
  }
  if (!isAlpha(str[p])) return -1;
  p++;
  while (p < str.length && (isAlnum(str[p]) || str[p] === '-' || str[p] === '_')) p++;
  if (complete && p < str.length) return -1;
  return p - pos;
}

/** starts_with_help_option(): length of a leading "?" or "help", else 0. */
function startsWithHelpOption(s: string, pos: number): number {
  if (s[pos] === '?') return 1;
  if (s.startsWith('help', pos)) return 4;
  return 0;
}

/**
 * keyval_parse_put(): make `cur[keyInCur]` a dict (value null) or the string `value`, failing when
 * an earlier item used it the other way. `keyText` names the key so far for the error.
 */
function put(cur: QDict, keyInCur: string, value: string | null, keyText: string): QObject {
  if (qdictHas(cur, keyInCur)) {
    const old = cur[keyInCur]!;
    if (value === null ? !isQDict(old) : typeof old !== 'string') {
      throw errorSetg(`Parameters '${keyText}.*' used inconsistently`);
    }
    if (value === null) return old;
  }
  const v = value ?? qdict();
  cur[keyInCur] = v;
  return v;
}

/** keyval_parse_one(): parse the item at `pos` into `dict`; returns where the next item starts. */
function parseOne(
  dict: QDict,
  params: string,
  pos: number,
  impliedKey: string | null,
  state: { help: boolean },
): number {
  let key = params;
  let keyStart = pos;
  let valEnd = -1;
  let len = 0;
  while (pos + len < params.length && params[pos + len] !== '=' && params[pos + len] !== ',') len++;
  if (len && params[pos + len] !== '=') {
    if (startsWithHelpOption(params, pos) === len) {
      state.help = true;
      let s = pos + len;
      if (params[s] === ',') s++;
      return s;
    }
    if (impliedKey !== null) {
      key = impliedKey;
      keyStart = 0;
      valEnd = pos + len;
      len = impliedKey.length;
    }
  }
  const implied = key !== params;
  const keyEnd = keyStart + len;
  const keyUpTo = (end: number): string => key.slice(keyStart, end);

  let cur = dict;
  let keyInCur = '';
  let s = keyStart;
  for (;;) {
    let fragLen: number;
    const idx = s !== keyStart ? keyToIndex(key, s, true) : { index: -1, end: s };
    if (idx.index >= 0) {
      fragLen = idx.end - s;
    } else {
      const r = parseQapiName(key, s);
      fragLen = r < 0 ? 0 : r;
    }
    if (!fragLen || (s + fragLen < keyEnd && key[s + fragLen] !== '.')) {
      throw errorSetg(`Invalid parameter '${keyUpTo(keyEnd)}'`);
    }
    if (fragLen >= 128) {
      const fragment = s !== keyStart || s + fragLen !== keyEnd ? ' fragment' : '';
      throw errorSetg(`Parameter${fragment} '${key.slice(s, s + fragLen)}' is too long`);
    }
    if (s !== keyStart) {
      cur = put(cur, keyInCur, null, keyUpTo(s - 1)) as QDict;
    }
    keyInCur = key.slice(s, s + fragLen);
    s += fragLen;
    if (key[s] !== '.' || (implied && s >= keyEnd)) break;
    s++;
  }

  let value: string;
  let next: number;
  if (implied) {
    value = params.slice(pos, valEnd);
    next = valEnd;
    if (params[next] === ',') next++;
  } else {
    if (params[s] !== '=') throw errorSetg(`Expected '=' after parameter '${keyUpTo(s)}'`);
    s++;
    let v = '';
    for (;;) {
      const comma = params.indexOf(',', s);
      if (comma < 0) {
        v += params.slice(s);
        s = params.length;
        break;
      }
      v += params.slice(s, comma);
      if (params[comma + 1] === ',') {
        v += ',';
        s = comma + 2;
        continue;
      }
      s = comma + 1;
      break;
    }
    value = v;
    next = s;
  }
  put(cur, keyInCur, value, keyUpTo(keyEnd));
  return next;
}

/** keyval_listify(): turn dicts whose keys are all list indexes into lists, recursively. */
function listify(cur: QDict, keyOfCur: string[]): QDict | QList {
  let hasIndex = false;
  let hasMember = false;
  for (const k of Object.keys(cur)) {
    if (keyToIndex(k).index >= 0) hasIndex = true;
    else hasMember = true;
    const v = cur[k]!;
    if (!isQDict(v)) continue;
    const l = listify(v, [...keyOfCur, k]);
    if (l !== v) cur[k] = l;
  }
  const prefix = keyOfCur.map((k) => k + '.').join('');
  if (hasIndex && hasMember) throw errorSetg(`Parameters '${prefix}*' used inconsistently`);
  if (!hasIndex) return cur;

  const keys = Object.keys(cur);
  const elt: (QObject | undefined)[] = new Array(keys.length);
  let maxIndex = -1;
  for (const k of keys) {
    const index = keyToIndex(k).index;
    if (index > maxIndex) maxIndex = index;
    if (index >= keys.length) continue;
    elt[index] = cur[k];
  }
  const list: QList = [];
  for (let i = 0; i < Math.min(keys.length + 1, maxIndex + 1); i++) {
    const v = elt[i];
    if (v === undefined) throw errorSetg(`Parameter '${prefix}${i}' missing`);
    list.push(v);
  }
  return list;
}

/**
 * keyval_parse_into(): parse `params` into `dict` (merging with what is there). When `acceptHelp`
 * is false a help request is the error "Help is not available for this option".
 */
export function keyvalParseInto(
  dict: QDict,
  params: string,
  impliedKey: string | null = null,
  acceptHelp = true,
): KeyvalResult {
  const state = { help: false };
  let pos = 0;
  let implied = impliedKey;
  while (pos < params.length) {
    pos = parseOne(dict, params, pos, implied, state);
    implied = null;
  }
  if (!acceptHelp && state.help) throw errorSetg('Help is not available for this option');
  const listified = listify(dict, []);
  if (listified !== dict) throw new QapiError('keyval: the root cannot be a list');
  return { dict, help: state.help };
}

/** keyval_parse(): a fresh dictionary from `params`, plus whether help was requested. */
export function keyvalParse(
  params: string,
  impliedKey: string | null = null,
  acceptHelp = true,
): KeyvalResult {
  return keyvalParseInto(qdict(), params, impliedKey, acceptHelp);
}

/**
 * keyval_merge(): merge `merged` into `dest` as repeated options do (-machine given twice):
 * dictionaries merge recursively, lists are concatenated, strings are replaced; a member that is a
 * string in one and a dictionary in the other is "Parameter 'a.b' used inconsistently".
 */
export function keyvalMerge(dest: QDict, merged: QDict): void {
  doMerge(dest, merged, '');
}

function doMerge(dest: QDict, merged: QDict, prefix: string): void {
  for (const k of Object.keys(merged)) {
    const value = merged[k]!;
    if (qdictHas(dest, k)) {
      const old = dest[k]!;
      const kindOf = (v: QObject): string => (Array.isArray(v) ? 'list' : isQDict(v) ? 'dict' : typeof v);
      if (kindOf(old) !== kindOf(value)) throw errorSetg(`Parameter '${prefix}${k}' used inconsistently`);
      if (isQDict(value)) {
        doMerge(old as QDict, value, `${prefix}${k}.`);
        continue;
      }
      if (Array.isArray(value)) {
        (old as QList).push(...value);
        continue;
      }
    }
    dest[k] = value;
  }
}
