/**
 * 'if' conditions (QEMU's QAPISchemaIfCond). QEMU turns them into #if; we evaluate them against a set
 * of defined symbols when building the generated code, and keep them verbatim for the schema dump.
 */
import { type ExprValue, isDict } from './parser.js';

export class IfCond {
  readonly cond: ExprValue | undefined;

  constructor(cond?: ExprValue) {
    this.cond = cond;
  }

  isPresent(): boolean {
    return this.cond !== undefined;
  }

  /** True when the condition holds for the given defined symbols (absent condition: always). */
  evaluate(defines: ReadonlySet<string>): boolean {
    return this.cond === undefined || evalCond(this.cond, defines);
  }

  /** Python repr() of the condition, as QEMU's test-qapi.py prints it. */
  repr(): string {
    return this.cond === undefined ? 'None' : pyRepr(this.cond);
  }
}

export function evalCond(cond: ExprValue, defines: ReadonlySet<string>): boolean {
  if (typeof cond === 'string') return defines.has(cond);
  if (isDict(cond)) {
    if (cond.has('not')) return !evalCond(cond.get('not')!, defines);
    if (cond.has('all')) return (cond.get('all') as ExprValue[]).every((c) => evalCond(c, defines));
    if (cond.has('any')) return (cond.get('any') as ExprValue[]).some((c) => evalCond(c, defines));
  }
  return false;
}

function pyRepr(v: ExprValue): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  return `{${[...v].map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(', ')}}`;
}

/** The top-level form printed by test-qapi.py: a bare string for a name, else the Python repr. */
export function ifcondText(c: IfCond): string {
  return typeof c.cond === 'string' ? c.cond : c.repr();
}
