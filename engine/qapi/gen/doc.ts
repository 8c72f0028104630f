/**
 * Documentation comments (QEMU 7.2's QAPIDoc in scripts/qapi/parser.py).
 *
 * A '##' block is either free-form text or documents one definition: "@name:" first, then the body,
 * "@member:" argument sections, a "Features:" section with "@feature:" entries, and tagged sections
 * such as "Returns:", "Since:", "Note:". The schema later connects members and features to their
 * sections so that documenting a member that does not exist (or a feature that is undocumented)
 * is an error, as in QEMU.
 */
import type { SchemaParser } from './parser.js';
import { QapiSchemaError, type SourceInfo } from './source.js';

export class DocSection {
  name: string | null;
  text = '';
  private readonly indent: number;
  private readonly parser: SchemaParser;
  /** Set when a schema member or feature is connected to this argument/feature section. */
  connected = false;

  /** An "@name:" argument or feature section (as opposed to Returns:, Since:, ...). */
  readonly isSymbol: boolean;

  constructor(parser: SchemaParser, name: string | null = null, indent = 0, isSymbol = false) {
    this.parser = parser;
    this.isSymbol = isSymbol;
    this.name = name;
    this.indent = indent;
  }

  append(line: string): void {
    if (line) {
      const indent = /^\s*/.exec(line)![0].length;
      if (indent < this.indent) {
        throw this.parser.error(`unexpected de-indent (expected at least ${this.indent} spaces)`);
      }
      line = line.slice(this.indent);
    }
    this.text += line.trimEnd() + '\n';
  }
}

const SECTION_TAGS = new Set(['Returns:', 'Since:', 'Note:', 'Notes:', 'Example:', 'Examples:', 'TODO:']);

type LineHandler = (line: string) => void;

export class QapiDoc {
  readonly info: SourceInfo;
  symbol: string | null = null;
  readonly body: DocSection;
  readonly args = new Map<string, DocSection>();
  readonly features = new Map<string, DocSection>();
  readonly sections: DocSection[] = [];
  private section: DocSection | null;
  private appendLine: LineHandler;
  private readonly parser: SchemaParser;

  constructor(parser: SchemaParser, info: SourceInfo) {
    this.parser = parser;
    this.info = info;
    this.body = new DocSection(parser);
    this.section = this.body;
    this.appendLine = this.appendBodyLine;
  }

  hasSection(name: string): boolean {
    return this.sections.some((s) => s.name === name);
  }

  /** Add one comment line ("# text" or "#"). */
  append(line: string): void {
    line = line.slice(1);
    if (!line) {
      this.appendFreeform(line);
      return;
    }
    if (line[0] !== ' ') throw this.parser.error('missing space after #');
    this.appendLine(line.slice(1));
  }

  endComment(): void {
    this.endSection();
  }

  private appendBodyLine = (line: string): void => {
    const name = line.split(' ', 1)[0]!;
    if (!this.symbol && !this.body.text && line.startsWith('@')) {
      if (!line.endsWith(':')) throw this.parser.error("line should end with ':'");
      this.symbol = line.slice(1, -1);
      if (!this.symbol) throw this.parser.error('invalid name');
    } else if (this.symbol) {
      if (name.startsWith('@') && name.endsWith(':')) {
        this.appendLine = this.appendArgsLine;
        this.appendArgsLine(line);
      } else if (line === 'Features:') {
        this.appendLine = this.appendFeaturesLine;
      } else if (SECTION_TAGS.has(name)) {
        this.appendLine = this.appendVariousLine;
        this.appendVariousLine(line);
      } else {
        this.appendFreeform(line);
      }
    } else {
      this.appendFreeform(line);
    }
  };

  /** "@name: text" → [name, indent, rest-with-indent-preserved]. */
  private static splitSymbolLine(line: string, re: RegExp): { indent: number; rest: string } {
    let indent = re.exec(line)![0].length;
    let rest = line.slice(indent);
    if (!rest) indent = 0;
    else rest = ' '.repeat(indent) + rest;
    return { indent, rest };
  }

  private appendArgsLine = (line: string): void => {
    const name = line.split(' ', 1)[0]!;
    if (name.startsWith('@') && name.endsWith(':')) {
      const { indent, rest } = QapiDoc.splitSymbolLine(line, /^@\S*:\s*/);
      this.startSymbolSection(this.args, name.slice(1, -1), indent);
      this.appendFreeform(rest);
      return;
    }
    if (SECTION_TAGS.has(name)) {
      this.appendLine = this.appendVariousLine;
      this.appendVariousLine(line);
      return;
    }
    if (this.section!.text.endsWith('\n\n') && line && !/^\s/.test(line)) {
      if (line === 'Features:') {
        this.appendLine = this.appendFeaturesLine;
      } else {
        this.startSection();
        this.appendLine = this.appendVariousLine;
        this.appendVariousLine(line);
      }
      return;
    }
    this.appendFreeform(line);
  };

  private appendFeaturesLine = (line: string): void => {
    const name = line.split(' ', 1)[0]!;
    if (name.startsWith('@') && name.endsWith(':')) {
      const { indent, rest } = QapiDoc.splitSymbolLine(line, /^@\S*:\s*/);
      this.startSymbolSection(this.features, name.slice(1, -1), indent);
      this.appendFreeform(rest);
      return;
    }
    if (SECTION_TAGS.has(name)) {
      this.appendLine = this.appendVariousLine;
      this.appendVariousLine(line);
      return;
    }
    if (this.section!.text.endsWith('\n\n') && line && !/^\s/.test(line)) {
      this.startSection();
      this.appendLine = this.appendVariousLine;
      this.appendVariousLine(line);
      return;
    }
    this.appendFreeform(line);
  };

  private appendVariousLine = (line: string): void => {
    const name = line.split(' ', 1)[0]!;
    if (name.startsWith('@') && name.endsWith(':')) {
      throw this.parser.error(`'${name}' can't follow '${this.sections[0]?.name}' section`);
    }
    if (SECTION_TAGS.has(name)) {
      const { indent, rest } = QapiDoc.splitSymbolLine(line, /^\S*:\s*/);
      this.startSection(name.slice(0, -1), indent);
      line = rest;
    }
    this.appendFreeform(line);
  };

  private startSymbolSection(dict: Map<string, DocSection>, name: string, indent: number): void {
    if (!name) throw this.parser.error('invalid parameter name');
    if (dict.has(name)) throw this.parser.error(`'${name}' parameter name duplicated`);
    this.endSection();
    this.section = new DocSection(this.parser, name, indent, true);
    dict.set(name, this.section);
  }

  private startSection(name: string | null = null, indent = 0): void {
    if ((name === 'Returns' || name === 'Since') && this.hasSection(name)) {
      throw this.parser.error(`duplicated '${name}' section`);
    }
    this.endSection();
    this.section = new DocSection(this.parser, name, indent);
    this.sections.push(this.section);
  }

  private endSection(): void {
    if (this.section) {
      const text = (this.section.text = this.section.text.trim());
      // Tagged sections must have text; an argument/feature may be listed without a description.
      if (this.section.name && !text && !this.section.isSymbol) {
        throw this.parser.error(`empty doc section '${this.section.name}'`);
      }
      this.section = null;
    }
  }

  private appendFreeform(line: string): void {
    const m = /^(@\S+:)/.exec(line);
    if (m) throw this.parser.error(`'${m[1]}' not allowed in free-form documentation`);
    this.section!.append(line);
  }

  connectMember(name: string): void {
    let s = this.args.get(name);
    if (!s) {
      // Undocumented member: QEMU tolerates it (TODO outlaw there too).
      s = new DocSection(this.parser, name);
      this.args.set(name, s);
    }
    s.connected = true;
  }

  connectFeature(name: string, info: SourceInfo): void {
    const s = this.features.get(name);
    if (!s) throw new QapiSchemaError(info, `feature '${name}' lacks documentation`);
    s.connected = true;
  }

  /** Checks that need only the expression (QEMU's QAPIDoc.check_expr). */
  checkExpr(expr: Map<string, unknown>): void {
    if (this.hasSection('Returns') && !expr.has('command')) {
      throw new QapiSchemaError(this.info, "'Returns:' is only valid for commands");
    }
  }

  /** After the schema connected everything: documented members/features must exist. */
  check(): void {
    const checkArgs = (args: Map<string, DocSection>, what: string): void => {
      const bogus = [...args].filter(([, s]) => !s.connected).map(([n]) => n);
      if (bogus.length) {
        const plural = bogus.length > 1;
        throw new QapiSchemaError(
          this.info,
          `documented ${what}${plural ? 's' : ''} '${bogus.join("', '")}' ${plural ? 'do' : 'does'} not exist`,
        );
      }
    };
    checkArgs(this.args, 'member');
    checkArgs(this.features, 'feature');
  }
}
