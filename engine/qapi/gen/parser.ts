/**
 * QAPI schema parser (QEMU's scripts/qapi/parser.py): a JSON-like lexer with single-quoted strings,
 * '#' comments and '##' documentation blocks, plus the 'include' and 'pragma' directives.
 * Semantic checking is done later by expr.ts; here only syntax errors are reported, with columns.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { QapiDoc } from './doc.js';
import { QapiSchemaError, SourceInfo } from './source.js';

/** A parsed value. Objects are Maps so key order and odd keys survive exactly. */
export type ExprValue = string | boolean | ExprValue[] | ExprDict;
export type ExprDict = Map<string, ExprValue>;

export interface ParsedExpr {
  expr: ExprDict;
  info: SourceInfo;
  doc?: QapiDoc;
}

/** Reads files; tests can substitute an in-memory file system. */
export type ReadFile = (fname: string) => string;

const defaultRead: ReadFile = (fname) => readFileSync(fname, 'utf8');

export function isDict(v: unknown): v is ExprDict {
  return v instanceof Map;
}

class ParseError extends QapiSchemaError {
  constructor(p: SchemaParser, msg: string) {
    let col = 1;
    for (const ch of p.src.slice(p.linePos, p.pos)) col = ch === '\t' ? ((col + 7) % 8) + 1 : col + 1;
    super(p.info, msg, col);
  }
}

export class SchemaParser {
  readonly fname: string;
  readonly exprs: ParsedExpr[] = [];
  readonly docs: QapiDoc[] = [];
  src = '';
  info: SourceInfo;
  tok: string | null = null;
  /** The current token, read through a call so TS does not keep narrowing across accept(). */
  private cur(): string | null {
    return this.tok;
  }
  pos = 0;
  cursor = 0;
  val: string | boolean | null = null;
  linePos = 0;
  private readonly included: Set<string>;
  private readonly readFile: ReadFile;

  constructor(
    fname: string,
    opts: { included?: Set<string>; inclInfo?: SourceInfo | null; readFile?: ReadFile; src?: string } = {},
  ) {
    this.fname = fname;
    this.included = opts.included ?? new Set();
    this.included.add(path.resolve(fname));
    this.readFile = opts.readFile ?? defaultRead;
    this.info = new SourceInfo(fname, opts.inclInfo ?? null);
    this.parse(opts.src ?? this.readFile(fname));
  }

  private parse(src: string): void {
    let curDoc: QapiDoc | null = null;
    this.src = src;
    if (this.src === '' || !this.src.endsWith('\n')) this.src += '\n';
    this.accept();
    while (this.tok !== null) {
      const info = this.info;
      if (this.tok === '#') {
        rejectExprDoc(curDoc);
        for (const d of this.getDoc(info)) {
          curDoc = d;
          this.docs.push(d);
        }
        continue;
      }
      const expr = this.getExpr();
      if (!isDict(expr)) throw new QapiSchemaError(info, 'top-level expression must be an object');
      if (expr.has('include')) {
        rejectExprDoc(curDoc);
        if (expr.size !== 1) throw new QapiSchemaError(info, "invalid 'include' directive");
        const include = expr.get('include');
        if (typeof include !== 'string')
          throw new QapiSchemaError(info, "value of 'include' must be a string");
        const inclFname = pyJoin(pyDirname(this.fname), include);
        this.exprs.push({ expr: new Map([['include', inclFname]]), info });
        const sub = this.include(include, info, inclFname);
        if (sub) {
          this.exprs.push(...sub.exprs);
          this.docs.push(...sub.docs);
        }
      } else if (expr.has('pragma')) {
        rejectExprDoc(curDoc);
        if (expr.size !== 1) throw new QapiSchemaError(info, "invalid 'pragma' directive");
        const pragma = expr.get('pragma');
        if (!isDict(pragma)) throw new QapiSchemaError(info, "value of 'pragma' must be an object");
        for (const [name, value] of pragma) applyPragma(name, value, info);
      } else {
        const elem: ParsedExpr = { expr, info };
        if (curDoc) {
          if (!curDoc.symbol) throw new QapiSchemaError(curDoc.info, 'definition documentation required');
          elem.doc = curDoc;
        }
        this.exprs.push(elem);
      }
      curDoc = null;
    }
    rejectExprDoc(curDoc);
  }

  private include(include: string, info: SourceInfo, inclFname: string): SchemaParser | null {
    const abs = path.resolve(inclFname);
    for (let inf: SourceInfo | null = info; inf; inf = inf.parent) {
      if (abs === path.resolve(inf.fname)) throw new QapiSchemaError(info, `inclusion loop for ${include}`);
    }
    if (this.included.has(abs)) return null;
    let src: string;
    try {
      src = this.readFile(inclFname);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const strerror = err.code === 'ENOENT' ? 'No such file or directory' : err.message;
      throw new QapiSchemaError(info, `can't read include file '${inclFname}': ${strerror}`);
    }
    return new SchemaParser(inclFname, {
      included: this.included,
      inclInfo: info,
      readFile: this.readFile,
      src,
    });
  }

  /** Read the next token into tok/val (QEMU's accept()). Doc comment lines come back as '#' tokens. */
  accept(skipComment = true): void {
    for (;;) {
      this.tok = this.src[this.cursor]!;
      this.pos = this.cursor;
      this.cursor++;
      this.val = null;
      if (this.tok === '#') {
        if (this.src[this.cursor] === '#') skipComment = false;
        this.cursor = this.src.indexOf('\n', this.cursor);
        if (!skipComment) {
          this.val = this.src.slice(this.pos, this.cursor);
          return;
        }
      } else if ('{}:,[]'.includes(this.tok)) {
        return;
      } else if (this.tok === "'") {
        let str = '';
        let esc = false;
        for (;;) {
          const ch = this.src[this.cursor]!;
          this.cursor++;
          if (ch === '\n') throw new ParseError(this, `missing terminating "'"`);
          if (esc) {
            if (ch !== '\\') throw new ParseError(this, `unknown escape \\${ch}`);
            esc = false;
          } else if (ch === '\\') {
            esc = true;
            continue;
          } else if (ch === "'") {
            this.val = str;
            return;
          }
          const code = ch.charCodeAt(0);
          if (code < 32 || code >= 127) throw new ParseError(this, 'funny character in string');
          str += ch;
        }
      } else if (this.src.startsWith('true', this.pos)) {
        this.val = true;
        this.cursor += 3;
        return;
      } else if (this.src.startsWith('false', this.pos)) {
        this.val = false;
        this.cursor += 4;
        return;
      } else if (this.tok === '\n') {
        if (this.cursor === this.src.length) {
          this.tok = null;
          return;
        }
        this.info = this.info.nextLine();
        this.linePos = this.cursor;
      } else if (!/\s/.test(this.tok)) {
        const m = /^[^[\]{}:,\s'"]+/.exec(this.src.slice(this.cursor - 1));
        throw new ParseError(this, `stray '${m ? m[0] : this.tok}'`);
      }
    }
  }

  private getMembers(): ExprDict {
    const expr: ExprDict = new Map();
    if (this.tok === '}') {
      this.accept();
      return expr;
    }
    if (this.tok !== "'") throw new ParseError(this, "expected string or '}'");
    for (;;) {
      const key = this.val as string;
      this.accept();
      if (this.cur() !== ':') throw new ParseError(this, "expected ':'");
      this.accept();
      if (expr.has(key)) throw new ParseError(this, `duplicate key '${key}'`);
      expr.set(key, this.getExpr());
      if (this.cur() === '}') {
        this.accept();
        return expr;
      }
      if (this.cur() !== ',') throw new ParseError(this, "expected ',' or '}'");
      this.accept();
      if (this.cur() !== "'") throw new ParseError(this, 'expected string');
    }
  }

  private getValues(): ExprValue[] {
    const expr: ExprValue[] = [];
    if (this.tok === ']') {
      this.accept();
      return expr;
    }
    if (this.tok === null || !"{['tf".includes(this.tok)) {
      throw new ParseError(this, "expected '{', '[', ']', string, or boolean");
    }
    for (;;) {
      expr.push(this.getExpr());
      if (this.tok === ']') {
        this.accept();
        return expr;
      }
      if (this.tok !== ',') throw new ParseError(this, "expected ',' or ']'");
      this.accept();
    }
  }

  private getExpr(): ExprValue {
    if (this.tok === '{') {
      this.accept();
      return this.getMembers();
    }
    if (this.tok === '[') {
      this.accept();
      return this.getValues();
    }
    if (this.tok === "'" || this.tok === 't' || this.tok === 'f') {
      const v = this.val as string | boolean;
      this.accept();
      return v;
    }
    throw new ParseError(this, "expected '{', '[', string, or boolean");
  }

  private getDoc(info: SourceInfo): QapiDoc[] {
    if (this.val !== '##') throw new ParseError(this, "junk after '##' at start of documentation comment");
    const docs: QapiDoc[] = [];
    let cur = new QapiDoc(this, info);
    this.accept(false);
    while (this.tok === '#') {
      const val = this.val as string;
      if (val.startsWith('##')) {
        if (val !== '##') throw new ParseError(this, "junk after '##' at end of documentation comment");
        cur.endComment();
        docs.push(cur);
        this.accept();
        return docs;
      }
      if (val.startsWith('# =')) {
        if (cur.symbol) throw new ParseError(this, "unexpected '=' markup in definition documentation");
        if (cur.body.text) {
          cur.endComment();
          docs.push(cur);
          cur = new QapiDoc(this, info);
        }
      }
      cur.append(val);
      this.accept(false);
    }
    throw new ParseError(this, "documentation comment must end with '##'");
  }

  /** A parse error at the current position (used by QapiDoc). */
  error(msg: string): QapiSchemaError {
    return new ParseError(this, msg);
  }
}

/** os.path.dirname / os.path.join as Python does them (no normalization), so messages show QEMU's paths. */
function pyDirname(p: string): string {
  const i = p.lastIndexOf('/');
  if (i < 0) return '';
  const head = p.slice(0, i + 1);
  return /^\/+$/.test(head) ? head : head.replace(/\/+$/, '');
}

function pyJoin(dir: string, rel: string): string {
  if (rel.startsWith('/') || dir === '') return rel;
  return dir.endsWith('/') ? dir + rel : `${dir}/${rel}`;
}

function rejectExprDoc(doc: QapiDoc | null): void {
  if (doc && doc.symbol) {
    throw new QapiSchemaError(
      doc.info,
      `documentation for '${doc.symbol}' is not followed by the definition`,
    );
  }
}

function applyPragma(name: string, value: ExprValue, info: SourceInfo): void {
  const listStr = (): string[] => {
    if (!Array.isArray(value) || value.some((e) => typeof e !== 'string')) {
      throw new QapiSchemaError(info, `pragma ${name} must be a list of strings`);
    }
    return value as string[];
  };
  const p = info.pragma;
  if (name === 'doc-required') {
    if (typeof value !== 'boolean') throw new QapiSchemaError(info, "pragma 'doc-required' must be boolean");
    p.docRequired = value;
  } else if (name === 'command-name-exceptions') {
    p.commandNameExceptions = listStr();
  } else if (name === 'command-returns-exceptions') {
    p.commandReturnsExceptions = listStr();
  } else if (name === 'member-name-exceptions') {
    p.memberNameExceptions = listStr();
  } else {
    throw new QapiSchemaError(info, `unknown pragma '${name}'`);
  }
}
