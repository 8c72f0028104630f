/**
 * Context-free checks of schema expressions (QEMU 7.2's scripts/qapi/expr.py): key sets, names,
 * flags, 'if' conditions, features, and the shape of 'data'/'base'/'returns'. It also normalizes
 * the expressions the way QEMU does (member shorthand 'T' → {'type': 'T'}, feature and enum member
 * shorthand → {'name': ...}, a string 'if' stays a string).
 */
import { cName } from './common.js';
import { type ExprDict, type ExprValue, type ParsedExpr, isDict } from './parser.js';
import { QapiSchemaError, type SourceInfo } from './source.js';

const VALID_NAME = /^(__[a-z0-9.-]+_)?(x-)?([a-z][a-z0-9_-]*)$/i;

export const META_KEYS = ['enum', 'struct', 'union', 'alternate', 'command', 'event'] as const;
export type Meta = (typeof META_KEYS)[number];

function err(info: SourceInfo, msg: string): QapiSchemaError {
  return new QapiSchemaError(info, msg);
}

function checkNameIsStr(name: unknown, info: SourceInfo, source: string): asserts name is string {
  if (typeof name !== 'string') throw err(info, `${source} requires a string name`);
}

function checkNameStr(name: string, info: SourceInfo, source: string): string {
  // The entire 'q_' namespace is reserved for the generator ('q_empty', 'q_obj_*').
  const m = VALID_NAME.exec(name);
  if (!m || cName(name, false).startsWith('q_')) throw err(info, `${source} has an invalid name`);
  return m[3]!;
}

function checkNameUpper(name: string, info: SourceInfo, source: string): void {
  const stem = checkNameStr(name, info, source);
  if (/[a-z-]/.test(stem)) throw err(info, `name of ${source} must not use lowercase or '-'`);
}

function checkNameLower(
  name: string,
  info: SourceInfo,
  source: string,
  permitUpper = false,
  permitUnderscore = false,
): void {
  const stem = checkNameStr(name, info, source);
  if ((!permitUpper && /[A-Z]/.test(stem)) || (!permitUnderscore && stem.includes('_'))) {
    throw err(info, `name of ${source} must not use uppercase or '_'`);
  }
}

function checkNameCamel(name: string, info: SourceInfo, source: string): void {
  const stem = checkNameStr(name, info, source);
  if (!/^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$/.test(stem))
    throw err(info, `name of ${source} must use CamelCase`);
}

function checkDefnNameStr(name: string, info: SourceInfo, meta: string): void {
  if (meta === 'event') checkNameUpper(name, info, meta);
  else if (meta === 'command') {
    checkNameLower(name, info, meta, false, info.pragma.commandNameExceptions.includes(name));
  } else checkNameCamel(name, info, meta);
  if (name.endsWith('List')) throw err(info, `${meta} name should not end in 'List'`);
}

function checkKeys(
  value: ExprDict,
  info: SourceInfo,
  source: string,
  required: string[],
  optional: string[],
): void {
  const pprint = (elems: Iterable<string>): string =>
    [...elems]
      .sort()
      .map((e) => `'${e}'`)
      .join(', ');
  const missing = required.filter((k) => !value.has(k));
  if (missing.length) {
    throw err(info, `${source} misses key${missing.length > 1 ? 's' : ''} ${pprint(missing)}`);
  }
  const allowed = new Set([...required, ...optional]);
  const unknown = [...value.keys()].filter((k) => !allowed.has(k));
  if (unknown.length) {
    throw err(
      info,
      `${source} has unknown key${unknown.length > 1 ? 's' : ''} ${pprint(unknown)}\nValid keys are ${pprint(allowed)}.`,
    );
  }
}

function checkFlags(expr: ExprDict, info: SourceInfo): void {
  for (const key of ['gen', 'success-response']) {
    if (expr.has(key) && expr.get(key) !== false) throw err(info, `flag '${key}' may only use false value`);
  }
  for (const key of ['boxed', 'allow-oob', 'allow-preconfig', 'coroutine']) {
    if (expr.has(key) && expr.get(key) !== true) throw err(info, `flag '${key}' may only use true value`);
  }
  if (expr.has('allow-oob') && expr.has('coroutine')) {
    throw err(info, "flags 'allow-oob' and 'coroutine' are incompatible");
  }
}

export function checkIf(expr: ExprDict, info: SourceInfo, source: string): void {
  const checkOne = (cond: ExprValue): void => {
    if (typeof cond === 'string') {
      if (!/^[A-Z][A-Z0-9_]*$/.test(cond)) {
        throw err(info, `'if' condition '${cond}' of ${source} is not a valid identifier`);
      }
      return;
    }
    if (!isDict(cond)) throw err(info, `'if' condition of ${source} must be a string or an object`);
    checkKeys(cond, info, `'if' condition of ${source}`, [], ['all', 'any', 'not']);
    if (cond.size !== 1) throw err(info, `'if' condition of ${source} has conflicting keys`);
    if (cond.has('not')) checkOne(cond.get('not')!);
    else if (cond.has('all')) checkInfix('all', cond.get('all')!);
    else checkInfix('any', cond.get('any')!);
  };
  const checkInfix = (op: string, operands: ExprValue): void => {
    if (!Array.isArray(operands)) throw err(info, `'${op}' condition of ${source} must be an array`);
    if (!operands.length) throw err(info, `'if' condition [] of ${source} is useless`);
    operands.forEach(checkOne);
  };
  const ifcond = expr.get('if');
  if (ifcond === undefined) return;
  checkOne(ifcond);
}

/** 'T' and ['T'] shorthands → {'type': ...} (QEMU's normalize_members). */
function normalizeMembers(members: ExprValue | undefined): void {
  if (!isDict(members)) return;
  for (const [key, arg] of members) {
    if (!isDict(arg)) members.set(key, new Map([['type', arg]]));
  }
}

function checkType(
  value: ExprValue | undefined,
  info: SourceInfo,
  source: string,
  allowArray = false,
  allowDict: boolean | string = false,
): void {
  if (value === undefined) return;
  if (typeof value === 'string') return;
  if (Array.isArray(value)) {
    if (!allowArray) throw err(info, `${source} cannot be an array`);
    if (value.length !== 1 || typeof value[0] !== 'string') {
      throw err(info, `${source}: array type must contain single type name`);
    }
    return;
  }
  if (!allowDict) throw err(info, `${source} should be a type name`);
  if (!isDict(value)) throw err(info, `${source} should be an object or type name`);
  const permissive = typeof allowDict === 'string' && info.pragma.memberNameExceptions.includes(allowDict);
  for (const [rawKey, arg] of value) {
    const keySource = `${source} member '${rawKey}'`;
    const key = rawKey.startsWith('*') ? rawKey.slice(1) : rawKey;
    checkNameLower(key, info, keySource, permissive, permissive);
    if (cName(key, false) === 'u' || cName(key, false).startsWith('has_')) {
      throw err(info, `${keySource} uses reserved name`);
    }
    const a = arg as ExprDict;
    checkKeys(a, info, keySource, ['type'], ['if', 'features']);
    checkIf(a, info, keySource);
    checkFeatures(a.get('features'), info);
    checkType(a.get('type'), info, keySource, true);
  }
}

function checkFeatures(features: ExprValue | undefined, info: SourceInfo): void {
  if (features === undefined) return;
  if (!Array.isArray(features)) throw err(info, "'features' must be an array");
  for (let i = 0; i < features.length; i++) {
    const f = features[i]!;
    if (!isDict(f)) features[i] = new Map([['name', f]]);
  }
  for (const f of features as ExprDict[]) {
    let source = "'features' member";
    checkKeys(f, info, source, ['name'], ['if']);
    const name = f.get('name');
    checkNameIsStr(name, info, source);
    source = `${source} '${name}'`;
    checkNameLower(name, info, source);
    checkIf(f, info, source);
  }
}

function checkEnum(expr: ExprDict, info: SourceInfo): void {
  const name = expr.get('enum') as string;
  const members = expr.get('data')!;
  const prefix = expr.get('prefix');
  if (!Array.isArray(members)) throw err(info, "'data' must be an array");
  if (prefix !== undefined && typeof prefix !== 'string') throw err(info, "'prefix' must be a string");
  const permissive = info.pragma.memberNameExceptions.includes(name);
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (!isDict(m)) members[i] = new Map([['name', m]]);
  }
  for (const member of members as ExprDict[]) {
    let source = "'data' member";
    checkKeys(member, info, source, ['name'], ['if', 'features']);
    let memberName = member.get('name');
    checkNameIsStr(memberName, info, source);
    source = `${source} '${memberName}'`;
    // Enum members may start with a digit: hide it from the name check.
    if (/^[0-9]/.test(memberName)) memberName = 'd' + memberName;
    checkNameLower(memberName, info, source, permissive, permissive);
    checkIf(member, info, source);
    checkFeatures(member.get('features'), info);
  }
}

function checkStruct(expr: ExprDict, info: SourceInfo): void {
  checkType(expr.get('data'), info, "'data'", false, expr.get('struct') as string);
  checkType(expr.get('base'), info, "'base'");
}

function checkUnion(expr: ExprDict, info: SourceInfo): void {
  const base = expr.get('base');
  const discriminator = expr.get('discriminator');
  const members = expr.get('data');
  checkType(base, info, "'base'", false, expr.get('union') as string);
  checkNameIsStr(discriminator, info, "'discriminator'");
  if (!isDict(members)) throw err(info, "'data' must be an object");
  for (const [key, value] of members) {
    const source = `'data' member '${key}'`;
    const v = value as ExprDict;
    checkKeys(v, info, source, ['type'], ['if']);
    checkIf(v, info, source);
    checkType(v.get('type'), info, source, !base);
  }
}

function checkAlternate(expr: ExprDict, info: SourceInfo): void {
  const members = expr.get('data')!;
  if (
    isDict(members)
      ? members.size === 0
      : Array.isArray(members)
        ? members.length === 0
        : members === '' || members === false
  ) {
    throw err(info, "'data' must not be empty");
  }
  if (!isDict(members)) throw err(info, "'data' must be an object");
  for (const [key, value] of members) {
    const source = `'data' member '${key}'`;
    checkNameLower(key, info, source);
    const v = value as ExprDict;
    checkKeys(v, info, source, ['type'], ['if']);
    checkIf(v, info, source);
    checkType(v.get('type'), info, source, true);
  }
}

function checkCommand(expr: ExprDict, info: SourceInfo): void {
  const args = expr.get('data');
  const rets = expr.get('returns');
  const boxed = expr.get('boxed') ?? false;
  if (boxed && args === undefined) throw err(info, "'boxed': true requires 'data'");
  checkType(args, info, "'data'", false, !boxed);
  checkType(rets, info, "'returns'", true);
}

function checkEvent(expr: ExprDict, info: SourceInfo): void {
  const args = expr.get('data');
  const boxed = expr.get('boxed') ?? false;
  if (boxed && args === undefined) throw err(info, "'boxed': true requires 'data'");
  checkType(args, info, "'data'", false, !boxed);
}

/** Check and normalize every definition; returns the same list. */
export function checkExprs(exprs: ParsedExpr[]): ParsedExpr[] {
  for (const { expr, info, doc } of exprs) {
    if (expr.has('include')) continue;
    const metas = META_KEYS.filter((k) => expr.has(k));
    if (metas.length !== 1) {
      throw err(info, `expression must have exactly one key ${META_KEYS.map((k) => `'${k}'`).join(', ')}`);
    }
    const meta = metas[0]!;
    const name = expr.get(meta);
    checkNameIsStr(name, info, `'${meta}'`);
    info.setDefn(meta, name);
    checkDefnNameStr(name, info, meta);

    if (doc) {
      if (doc.symbol !== name) throw err(info, `documentation comment is for '${doc.symbol}'`);
      doc.checkExpr(expr);
    } else if (info.pragma.docRequired) {
      throw err(info, 'documentation comment required');
    }

    switch (meta) {
      case 'enum':
        checkKeys(expr, info, meta, ['enum', 'data'], ['if', 'features', 'prefix']);
        checkEnum(expr, info);
        break;
      case 'union':
        checkKeys(expr, info, meta, ['union', 'base', 'discriminator', 'data'], ['if', 'features']);
        normalizeMembers(expr.get('base'));
        normalizeMembers(expr.get('data'));
        checkUnion(expr, info);
        break;
      case 'alternate':
        checkKeys(expr, info, meta, ['alternate', 'data'], ['if', 'features']);
        normalizeMembers(expr.get('data'));
        checkAlternate(expr, info);
        break;
      case 'struct':
        checkKeys(expr, info, meta, ['struct', 'data'], ['base', 'if', 'features']);
        normalizeMembers(expr.get('data'));
        checkStruct(expr, info);
        break;
      case 'command':
        checkKeys(
          expr,
          info,
          meta,
          ['command'],
          [
            'data',
            'returns',
            'boxed',
            'if',
            'features',
            'gen',
            'success-response',
            'allow-oob',
            'allow-preconfig',
            'coroutine',
          ],
        );
        normalizeMembers(expr.get('data'));
        checkCommand(expr, info);
        break;
      case 'event':
        checkKeys(expr, info, meta, ['event'], ['data', 'boxed', 'if', 'features']);
        normalizeMembers(expr.get('data'));
        checkEvent(expr, info);
        break;
    }
    checkIf(expr, info, meta);
    checkFeatures(expr.get('features'), info);
    checkFlags(expr, info);
  }
  return exprs;
}
