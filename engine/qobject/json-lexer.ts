/**
 * JSON lexer for QMP byte streams, modelled on QEMU's qobject/json-lexer.c state machine.
 *
 * Why a byte-level DFA instead of JSON.parse: QMP is a stream, values arrive split across socket
 * reads, and QEMU's recovery behaviour (what counts as a stray token, where it resynchronises) is part
 * of the protocol clients rely on. Facts reproduced from QEMU:
 *  - strings may be "double" or 'single' quoted; any byte 0x20..0xFD is taken inside a string
 *    (escapes and UTF-8 are validated later by the parser); control bytes and 0xFE/0xFF end the token
 *    as an error;
 *  - numbers follow RFC 8259 (leading zeros are an error: "01" is a stray token);
 *  - keywords are any [a-z]+ (the parser rejects unknown ones);
 *  - after an error the lexer skips input until a structural character ([]{}:,), an ASCII control
 *    character other than tab, or a 0xFE/0xFF byte, then restarts;
 *  - a single token longer than 64 MiB is cut and handed on (the streamer reports the size limit).
 */

import { asciiSlice } from './mod-utf8.js';

/** Token types (values are ours; QEMU keeps them above every lexer state, as we do). */
export const enum JsonTokenType {
  Error = 0,
  LCurly = 100,
  RCurly,
  LSquare,
  RSquare,
  Colon,
  Comma,
  Integer,
  Float,
  Keyword,
  String,
  EndOfInput,
  /** A token cut at MAX_TOKEN_SIZE while the lexer was still inside it. */
  Oversized,
}

export interface JsonToken {
  readonly type: JsonTokenType;
  /** Structural, Integer, Float, Keyword: the token's (ASCII) text. Empty for the others. */
  readonly text: string;
  /** String, Error, Oversized: the raw bytes (for Error, the partial token and the offending byte). */
  readonly bytes: Uint8Array | null;
  /** Length in bytes, for the streamer's size limit. */
  readonly size: number;
}

/** QEMU's MAX_TOKEN_SIZE (64 MiB), in the lexer for one token and in the streamer for one message. */
export const MAX_TOKEN_SIZE = 64 * 1024 * 1024;

const enum S {
  Recovery = 1,
  DqStringEscape,
  DqString,
  SqStringEscape,
  SqString,
  Zero,
  ExpDigits,
  ExpSign,
  ExpE,
  Mantissa,
  MantissaDigits,
  Digits,
  Sign,
  Keyword,
  Start,
}

const LOOKAHEAD = 0x80;
const NSTATES = S.Start + 1;

/** The transition table: TABLE[state * 256 + byte] = next state or token type, maybe | LOOKAHEAD. */
const TABLE: Uint8Array = buildTable();

function buildTable(): Uint8Array {
  const t = new Uint8Array(NSTATES * 256); // default 0 = JsonTokenType.Error
  const set = (state: S, from: number, to: number, next: number): void => {
    for (let c = from; c <= to; c++) t[state * 256 + c] = next;
  };
  const ch = (c: string): number => c.charCodeAt(0);
  const terminal = (state: S, token: JsonTokenType): void => set(state, 0, 0xff, token | LOOKAHEAD);

  // Error recovery: skip until something promising, then restart without consuming it.
  set(S.Recovery, 0, 0x1f, S.Start | LOOKAHEAD);
  set(S.Recovery, 0x20, 0xfd, S.Recovery);
  set(S.Recovery, 0xfe, 0xff, S.Start | LOOKAHEAD);
  set(S.Recovery, ch('\t'), ch('\t'), S.Recovery);
  for (const c of '[]{}:,') set(S.Recovery, ch(c), ch(c), S.Start | LOOKAHEAD);

  // Strings (double and single quoted).
  set(S.DqStringEscape, 0x20, 0xfd, S.DqString);
  set(S.DqString, 0x20, 0xfd, S.DqString);
  set(S.DqString, ch('\\'), ch('\\'), S.DqStringEscape);
  set(S.DqString, ch('"'), ch('"'), JsonTokenType.String);
  set(S.SqStringEscape, 0x20, 0xfd, S.SqString);
  set(S.SqString, 0x20, 0xfd, S.SqString);
  set(S.SqString, ch('\\'), ch('\\'), S.SqStringEscape);
  set(S.SqString, ch("'"), ch("'"), JsonTokenType.String);

  // Numbers.
  terminal(S.Zero, JsonTokenType.Integer);
  set(S.Zero, ch('0'), ch('9'), JsonTokenType.Error);
  set(S.Zero, ch('.'), ch('.'), S.Mantissa);
  terminal(S.ExpDigits, JsonTokenType.Float);
  set(S.ExpDigits, ch('0'), ch('9'), S.ExpDigits);
  set(S.ExpSign, ch('0'), ch('9'), S.ExpDigits);
  set(S.ExpE, ch('-'), ch('-'), S.ExpSign);
  set(S.ExpE, ch('+'), ch('+'), S.ExpSign);
  set(S.ExpE, ch('0'), ch('9'), S.ExpDigits);
  terminal(S.MantissaDigits, JsonTokenType.Float);
  set(S.MantissaDigits, ch('0'), ch('9'), S.MantissaDigits);
  set(S.MantissaDigits, ch('e'), ch('e'), S.ExpE);
  set(S.MantissaDigits, ch('E'), ch('E'), S.ExpE);
  set(S.Mantissa, ch('0'), ch('9'), S.MantissaDigits);
  terminal(S.Digits, JsonTokenType.Integer);
  set(S.Digits, ch('0'), ch('9'), S.Digits);
  set(S.Digits, ch('e'), ch('e'), S.ExpE);
  set(S.Digits, ch('E'), ch('E'), S.ExpE);
  set(S.Digits, ch('.'), ch('.'), S.Mantissa);
  set(S.Sign, ch('0'), ch('0'), S.Zero);
  set(S.Sign, ch('1'), ch('9'), S.Digits);

  // Keywords.
  terminal(S.Keyword, JsonTokenType.Keyword);
  set(S.Keyword, ch('a'), ch('z'), S.Keyword);

  // Start.
  set(S.Start, ch('"'), ch('"'), S.DqString);
  set(S.Start, ch("'"), ch("'"), S.SqString);
  set(S.Start, ch('0'), ch('0'), S.Zero);
  set(S.Start, ch('1'), ch('9'), S.Digits);
  set(S.Start, ch('-'), ch('-'), S.Sign);
  set(S.Start, ch('{'), ch('{'), JsonTokenType.LCurly);
  set(S.Start, ch('}'), ch('}'), JsonTokenType.RCurly);
  set(S.Start, ch('['), ch('['), JsonTokenType.LSquare);
  set(S.Start, ch(']'), ch(']'), JsonTokenType.RSquare);
  set(S.Start, ch(','), ch(','), JsonTokenType.Comma);
  set(S.Start, ch(':'), ch(':'), JsonTokenType.Colon);
  set(S.Start, ch('a'), ch('z'), S.Keyword);
  for (const c of ' \t\r\n') set(S.Start, ch(c), ch(c), S.Start);
  return t;
}

const EMPTY = new Uint8Array(0);

function fixedToken(type: JsonTokenType, text: string): JsonToken {
  return Object.freeze({ type, text, bytes: null, size: text.length });
}

/** Structural tokens carry no data, so one shared instance each keeps big messages cheap. */
const STRUCTURAL: Partial<Record<JsonTokenType, JsonToken>> = {
  [JsonTokenType.LCurly]: fixedToken(JsonTokenType.LCurly, '{'),
  [JsonTokenType.RCurly]: fixedToken(JsonTokenType.RCurly, '}'),
  [JsonTokenType.LSquare]: fixedToken(JsonTokenType.LSquare, '['),
  [JsonTokenType.RSquare]: fixedToken(JsonTokenType.RSquare, ']'),
  [JsonTokenType.Colon]: fixedToken(JsonTokenType.Colon, ':'),
  [JsonTokenType.Comma]: fixedToken(JsonTokenType.Comma, ','),
};
const END_OF_INPUT = fixedToken(JsonTokenType.EndOfInput, '');

/**
 * Feeds bytes through the DFA and hands every complete token (and every error) to `emit`.
 * Tokens inside one chunk are sliced out directly; only a token split across chunks is buffered.
 */
export class JsonLexer {
  private state: number = S.Start;
  /**
   * Bytes of the current token from earlier chunks, in a buffer that grows by doubling: a long token
   * arriving in many small reads still costs linear time and little overhead.
   */
  private pending: Uint8Array = EMPTY;
  private pendingLen = 0;

  constructor(
    private readonly emit: (token: JsonToken) => void,
    private readonly maxTokenSize = MAX_TOKEN_SIZE,
  ) {}

  feed(chunk: Uint8Array): void {
    let tokenStart = 0; // start of the current token's bytes within this chunk
    let state = this.state;
    const n = chunk.length;
    const max = this.maxTokenSize;
    for (let i = 0; i < n; i++) {
      const c = chunk[i]!;
      for (;;) {
        const entry = TABLE[state * 256 + c]!;
        const next = entry & ~LOOKAHEAD;
        const consumed = (entry & LOOKAHEAD) === 0;
        const tokenEnd = consumed ? i + 1 : i;
        if (next >= JsonTokenType.LCurly) {
          this.token(next, chunk, tokenStart, tokenEnd);
          state = S.Start;
          tokenStart = tokenEnd;
        } else if (next === S.Start) {
          this.drop();
          state = S.Start;
          tokenStart = tokenEnd;
        } else if (next === JsonTokenType.Error) {
          this.token(JsonTokenType.Error, chunk, tokenStart, tokenEnd);
          state = S.Recovery;
          tokenStart = tokenEnd;
        } else if (next === S.Recovery) {
          state = S.Recovery;
          tokenStart = tokenEnd;
        } else {
          state = next;
        }
        if (consumed) break;
      }
      // Security limit on a single token, checked after each byte as QEMU does.
      if (state !== S.Start && state !== S.Recovery && this.pendingLen + (i + 1 - tokenStart) > max) {
        this.token(JsonTokenType.Oversized, chunk, tokenStart, i + 1);
        state = S.Start;
        tokenStart = i + 1;
      }
    }
    if (state !== S.Start && state !== S.Recovery && tokenStart < n) {
      // Copy: the caller may reuse its buffer once feed() returns.
      this.appendPending(chunk.subarray(tokenStart, n));
    }
    this.state = state;
  }

  /** End of input: finish or reject the pending token, then report end of input. */
  flush(): void {
    let state = this.state;
    while (state !== S.Start) {
      const entry = TABLE[state * 256]!; // byte 0, never consumed when flushing
      const next = entry & ~LOOKAHEAD;
      if (next >= JsonTokenType.LCurly) {
        this.token(next, EMPTY, 0, 0);
        state = S.Start;
      } else if (next === JsonTokenType.Error) {
        this.token(JsonTokenType.Error, EMPTY, 0, 0);
        state = S.Recovery;
      } else {
        this.drop();
        state = next;
      }
    }
    this.state = S.Start;
    this.emit(END_OF_INPUT);
  }

  private token(type: JsonTokenType, chunk: Uint8Array, start: number, end: number): void {
    const fixed = STRUCTURAL[type];
    if (fixed) {
      this.drop();
      this.emit(fixed);
      return;
    }
    let bytes: Uint8Array;
    if (this.pendingLen === 0) {
      if (type === JsonTokenType.Integer || type === JsonTokenType.Float || type === JsonTokenType.Keyword) {
        this.emit({ type, text: asciiSlice(chunk, start, end), bytes: null, size: end - start });
        return;
      }
      bytes = chunk.slice(start, end);
    } else {
      bytes = new Uint8Array(this.pendingLen + (end - start));
      bytes.set(this.pending.subarray(0, this.pendingLen));
      bytes.set(chunk.subarray(start, end), this.pendingLen);
      this.drop();
    }
    if (type === JsonTokenType.Integer || type === JsonTokenType.Float || type === JsonTokenType.Keyword) {
      this.emit({ type, text: asciiSlice(bytes, 0, bytes.length), bytes: null, size: bytes.length });
    } else {
      this.emit({ type, text: '', bytes, size: bytes.length });
    }
  }

  private appendPending(data: Uint8Array): void {
    const need = this.pendingLen + data.length;
    if (need > this.pending.length) {
      const grown = new Uint8Array(Math.max(need, this.pending.length * 2, 256));
      grown.set(this.pending.subarray(0, this.pendingLen));
      this.pending = grown;
    }
    this.pending.set(data, this.pendingLen);
    this.pendingLen = need;
  }

  /** Forget the pending token (keeping a small buffer for reuse, releasing a big one). */
  private drop(): void {
    this.pendingLen = 0;
    if (this.pending.length > 65536) this.pending = EMPTY;
  }
}
