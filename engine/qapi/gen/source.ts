/**
 * Source locations and error reporting for the QAPI generator (QEMU's scripts/qapi/source.py and
 * error.py). Errors print like QEMU's: an include chain, "file: In struct 'Foo':" context, then
 * "file:line[:col]: message", so the golden .err files can match QEMU's texts.
 */

/** Pragmas are shared by the whole include tree (QEMU passes the parent's object down). */
export interface QapiPragma {
  docRequired: boolean;
  commandNameExceptions: string[];
  commandReturnsExceptions: string[];
  memberNameExceptions: string[];
}

export class SourceInfo {
  readonly fname: string;
  readonly line: number;
  readonly parent: SourceInfo | null;
  readonly pragma: QapiPragma;
  defnMeta: string | null = null;
  defnName: string | null = null;

  constructor(fname: string, parent: SourceInfo | null, line = 1, pragma?: QapiPragma) {
    this.fname = fname;
    this.parent = parent;
    this.line = line;
    this.pragma = pragma ??
      parent?.pragma ?? {
        docRequired: false,
        commandNameExceptions: [],
        commandReturnsExceptions: [],
        memberNameExceptions: [],
      };
  }

  /** The location of the next line (a new object: infos are captured per expression). */
  nextLine(): SourceInfo {
    return new SourceInfo(this.fname, this.parent, this.line + 1, this.pragma);
  }

  setDefn(meta: string, name: string): void {
    this.defnMeta = meta;
    this.defnName = name;
  }

  loc(): string {
    return `${this.fname}:${this.line}`;
  }

  includePath(): string {
    let ret = '';
    for (let p = this.parent; p; p = p.parent) ret = `In file included from ${p.loc()}:\n` + ret;
    return ret;
  }

  inDefn(): string {
    return this.defnName ? `${this.fname}: In ${this.defnMeta} '${this.defnName}':\n` : '';
  }

  toString(): string {
    return this.includePath() + this.inDefn() + this.loc();
  }
}

/** Any error in a schema: message text is QEMU's, toString() adds the location like QEMU prints it. */
export class QapiSchemaError extends Error {
  readonly info: SourceInfo | null;
  readonly col: number | null;
  readonly msg: string;

  constructor(info: SourceInfo | null, msg: string, col: number | null = null) {
    super(msg);
    this.name = 'QapiSchemaError';
    this.info = info;
    this.col = col;
    this.msg = msg;
    this.message = this.format();
  }

  format(): string {
    if (!this.info) return this.msg;
    let loc = this.info.toString();
    if (this.col !== null) loc += `:${this.col}`;
    return `${loc}: ${this.msg}`;
  }

  override toString(): string {
    return this.format();
  }
}
