/**
 * Splits a QMP byte stream into JSON values (QEMU 7.2's qobject/json-streamer.c).
 *
 * Tokens are collected until braces and brackets balance (or a closing one goes negative), then the
 * collected message is parsed and handed to `emit`. Errors are reported through the same callback and
 * the stream resynchronises exactly where QEMU's does, because clients depend on that:
 *  - a lexical error ("JSON parse error, stray '<token>'") drops the partial message, and the lexer
 *    skips input up to the next structural character, control character or 0xFF byte;
 *  - limits: 64 MiB of token text per message, 2 Mi tokens, nesting depth 1024; exceeding one reports
 *    "JSON token size limit exceeded" / "JSON token count limit exceeded" / "JSON nesting depth limit
 *    exceeded" and drops what was collected (the rest of the input is then lexed afresh);
 *  - a closing brace or bracket without its opener ends the message at once ("[}" is parsed, and
 *    fails, as soon as the "}" arrives).
 * A value `null` with error `null` is the JSON literal null (QMP then complains it is not an object).
 */
import { QapiError } from '../qapi/error.js';
import type { QObject } from './qobject.js';
import { JsonLexer, JsonTokenType, MAX_TOKEN_SIZE, type JsonToken } from './json-lexer.js';
import { parseTokens } from './json-grammar.js';
import { decodeCString } from './mod-utf8.js';

export const MAX_TOKEN_COUNT = 2 * 1024 * 1024;
export const MAX_NESTING = 1024;

/** The security limits; QEMU's values are the defaults (tests lower them to exercise the paths). */
export interface JsonStreamLimits {
  maxTokenSize: number;
  maxTokenCount: number;
  maxNesting: number;
}

export type JsonStreamEmit = (value: QObject | null, error: QapiError | null) => void;

const encoder = new TextEncoder();

export class JsonStreamer {
  private readonly lexer: JsonLexer;
  private tokens: JsonToken[] = [];
  private tokenSize = 0;
  private braceCount = 0;
  private bracketCount = 0;
  private readonly limits: JsonStreamLimits;

  /** `emit` is called once per value or error, synchronously from feed()/flush(); it must not throw. */
  constructor(
    private readonly emit: JsonStreamEmit,
    limits: Partial<JsonStreamLimits> = {},
  ) {
    this.limits = {
      maxTokenSize: limits.maxTokenSize ?? MAX_TOKEN_SIZE,
      maxTokenCount: limits.maxTokenCount ?? MAX_TOKEN_COUNT,
      maxNesting: limits.maxNesting ?? MAX_NESTING,
    };
    this.lexer = new JsonLexer((token) => this.processToken(token), this.limits.maxTokenSize);
  }

  /** Feed raw bytes (a string is sent as UTF-8). Values split across chunks are reassembled. */
  feed(chunk: string | Uint8Array): void {
    this.lexer.feed(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
  }

  /** End of input: complete a trailing scalar or report what is left unfinished. */
  flush(): void {
    this.lexer.flush();
  }

  private processToken(token: JsonToken): void {
    switch (token.type) {
      case JsonTokenType.LCurly:
        this.braceCount++;
        break;
      case JsonTokenType.RCurly:
        this.braceCount--;
        break;
      case JsonTokenType.LSquare:
        this.bracketCount++;
        break;
      case JsonTokenType.RSquare:
        this.bracketCount--;
        break;
      case JsonTokenType.Error:
        this.finish(null, new QapiError(`JSON parse error, stray '${decodeCString(token.bytes!)}'`));
        return;
      case JsonTokenType.EndOfInput:
        if (this.tokens.length === 0) return;
        this.parseAndFinish();
        return;
      default:
        break;
    }

    const len = token.size;
    if (this.tokenSize + len + 1 > this.limits.maxTokenSize) {
      this.finish(null, new QapiError('JSON token size limit exceeded'));
      return;
    }
    if (this.tokens.length + 1 > this.limits.maxTokenCount) {
      this.finish(null, new QapiError('JSON token count limit exceeded'));
      return;
    }
    if (this.bracketCount + this.braceCount > this.limits.maxNesting) {
      this.finish(null, new QapiError('JSON nesting depth limit exceeded'));
      return;
    }

    this.tokens.push(token);
    this.tokenSize += len;

    // Wait for more while something is open and nothing closed too much.
    if ((this.braceCount > 0 || this.bracketCount > 0) && this.braceCount >= 0 && this.bracketCount >= 0)
      return;
    this.parseAndFinish();
  }

  private parseAndFinish(): void {
    let value: QObject | null = null;
    let error: QapiError | null = null;
    try {
      value = parseTokens(this.tokens);
    } catch (e) {
      error = e instanceof QapiError ? e : new QapiError(`JSON parse error, ${String(e)}`);
    }
    this.finish(value, error);
  }

  private finish(value: QObject | null, error: QapiError | null): void {
    this.braceCount = 0;
    this.bracketCount = 0;
    this.tokens = [];
    this.tokenSize = 0;
    this.emit(error ? null : value, error);
  }
}
