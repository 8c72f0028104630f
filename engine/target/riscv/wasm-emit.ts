/**
 * A minimal WebAssembly binary writer: just what the translator needs (one module with an imported
 * shared memory, imported host functions, and exported functions of i32/i64 locals). Opcodes are
 * named constants so the translator reads like the wasm text format.
 */

export const enum T {
  i32 = 0x7f,
  i64 = 0x7e,
  void = 0x40,
}

/** Opcodes used by the translator (WebAssembly core spec, 5.4). */
export const enum Op {
  block = 0x02,
  loop = 0x03,
  if = 0x04,
  else = 0x05,
  end = 0x0b,
  br = 0x0c,
  br_if = 0x0d,
  br_table = 0x0e,
  return = 0x0f,
  call = 0x10,
  drop = 0x1a,
  select = 0x1b,
  local_get = 0x20,
  local_set = 0x21,
  local_tee = 0x22,
  i32_load = 0x28,
  i64_load = 0x29,
  i32_load8_s = 0x2c,
  i32_load8_u = 0x2d,
  i32_load16_s = 0x2e,
  i32_load16_u = 0x2f,
  i64_load8_s = 0x30,
  i64_load8_u = 0x31,
  i64_load16_s = 0x32,
  i64_load16_u = 0x33,
  i64_load32_s = 0x34,
  i64_load32_u = 0x35,
  i32_store = 0x36,
  i64_store = 0x37,
  i32_store8 = 0x3a,
  i32_store16 = 0x3b,
  i64_store8 = 0x3c,
  i64_store16 = 0x3d,
  i64_store32 = 0x3e,
  i32_const = 0x41,
  i64_const = 0x42,
  i32_eqz = 0x45,
  i32_eq = 0x46,
  i32_ne = 0x47,
  i32_lt_s = 0x48,
  i32_lt_u = 0x49,
  i32_gt_s = 0x4a,
  i32_gt_u = 0x4b,
  i32_le_s = 0x4c,
  i32_ge_u = 0x4f,
  i64_eqz = 0x50,
  i64_eq = 0x51,
  i64_ne = 0x52,
  i64_lt_s = 0x53,
  i64_lt_u = 0x54,
  i64_ge_s = 0x59,
  i64_ge_u = 0x5a,
  i32_add = 0x6a,
  i32_sub = 0x6b,
  i32_mul = 0x6c,
  i32_div_s = 0x6d,
  i32_div_u = 0x6e,
  i32_rem_s = 0x6f,
  i32_rem_u = 0x70,
  i32_and = 0x71,
  i32_or = 0x72,
  i32_xor = 0x73,
  i32_shl = 0x74,
  i32_shr_s = 0x75,
  i32_shr_u = 0x76,
  i64_clz = 0x79,
  i64_ctz = 0x7a,
  i64_popcnt = 0x7b,
  i64_add = 0x7c,
  i64_sub = 0x7d,
  i64_mul = 0x7e,
  i64_div_s = 0x7f,
  i64_div_u = 0x80,
  i64_rem_s = 0x81,
  i64_rem_u = 0x82,
  i64_and = 0x83,
  i64_or = 0x84,
  i64_xor = 0x85,
  i64_shl = 0x86,
  i64_shr_s = 0x87,
  i64_shr_u = 0x88,
  i64_rotl = 0x89,
  i64_rotr = 0x8a,
  i32_wrap_i64 = 0xa7,
  i64_extend_i32_s = 0xac,
  i64_extend_i32_u = 0xad,
  i64_extend8_s = 0xc2,
  i64_extend16_s = 0xc3,
  i64_extend32_s = 0xc4,
}

/** Growable byte buffer with LEB128 helpers. */
export class Bytes {
  private buf = new Uint8Array(256);
  length = 0;

  byte(b: number): this {
    if (this.length === this.buf.length) {
      const n = new Uint8Array(this.buf.length * 2);
      n.set(this.buf);
      this.buf = n;
    }
    this.buf[this.length++] = b;
    return this;
  }
  bytes(bs: ArrayLike<number>): this {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i]);
    return this;
  }
  u32(v: number): this {
    let x = v >>> 0;
    do {
      const b = x & 0x7f;
      x >>>= 7;
      this.byte(x !== 0 ? b | 0x80 : b);
    } while (x !== 0);
    return this;
  }
  s32(v: number): this {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      if ((x === 0 && !(b & 0x40)) || (x === -1 && b & 0x40)) {
        this.byte(b);
        return this;
      }
      this.byte(b | 0x80);
    }
  }
  s64(v: bigint): this {
    let x = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      if ((x === 0n && !(b & 0x40)) || (x === -1n && b & 0x40)) {
        this.byte(b);
        return this;
      }
      this.byte(b | 0x80);
    }
  }
  str(s: string): this {
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
    return this;
  }
  /** Append `b` prefixed with its length (sections, function bodies). */
  sized(b: Bytes): this {
    this.u32(b.length);
    return this.bytes(b.view());
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Function body builder: the code of one function, with typed helpers for common sequences. */
export class Code extends Bytes {
  op(o: Op): this {
    return this.byte(o);
  }
  get(l: number): this {
    return this.byte(Op.local_get).u32(l);
  }
  set(l: number): this {
    return this.byte(Op.local_set).u32(l);
  }
  tee(l: number): this {
    return this.byte(Op.local_tee).u32(l);
  }
  i32(v: number): this {
    return this.byte(Op.i32_const).s32(v);
  }
  i64(v: bigint | number): this {
    return this.byte(Op.i64_const).s64(BigInt(v));
  }
  /** Memory access with natural alignment hint `align` (log2 bytes) and a constant offset. */
  mem(o: Op, align: number, offset: number): this {
    return this.byte(o).u32(align).u32(offset);
  }
}

export interface ImportFunc {
  name: string;
  params: T[];
  results: T[];
}

export interface FuncDef {
  name: string;
  params: T[];
  results: T[];
  /** Extra locals after the parameters, by type. */
  locals: T[];
  code: Code;
}

/**
 * A module importing shared memory `e.m` (min/max pages) and host functions `e.<name>`, exporting
 * every function in `funcs` by name. Imported functions take the first indices.
 */
export function buildModule(
  memPages: { min: number; max: number },
  imports: ImportFunc[],
  funcs: FuncDef[],
): Uint8Array {
  const types: string[] = [];
  const typeIndex = (params: T[], results: T[]): number => {
    const key = `${params.join(',')}:${results.join(',')}`;
    let i = types.indexOf(key);
    if (i < 0) {
      i = types.length;
      types.push(key);
    }
    return i;
  };
  const importTypes = imports.map((f) => typeIndex(f.params, f.results));
  const funcTypes = funcs.map((f) => typeIndex(f.params, f.results));

  const out = new Bytes().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const section = (id: number, body: Bytes): void => {
    out.byte(id).sized(body);
  };
  // 1: types
  const ts = new Bytes().u32(types.length);
  for (const key of types) {
    const [p, r] = key.split(':').map((s) => (s === '' ? [] : s.split(',').map(Number)));
    ts.byte(0x60).u32(p.length).bytes(p).u32(r.length).bytes(r);
  }
  section(1, ts);
  // 2: imports (memory first, then functions)
  const is = new Bytes().u32(1 + imports.length);
  is.str('e').str('m').byte(0x02).byte(0x03).u32(memPages.min).u32(memPages.max);
  imports.forEach((f, k) => is.str('e').str(f.name).byte(0x00).u32(importTypes[k]));
  section(2, is);
  // 3: function declarations
  const fs = new Bytes().u32(funcs.length);
  for (const t of funcTypes) fs.u32(t);
  section(3, fs);
  // 7: exports
  const es = new Bytes().u32(funcs.length);
  funcs.forEach((f, k) =>
    es
      .str(f.name)
      .byte(0x00)
      .u32(imports.length + k),
  );
  section(7, es);
  // 10: code
  const cs = new Bytes().u32(funcs.length);
  for (const f of funcs) {
    const body = new Bytes();
    // Locals, run-length encoded by type.
    const groups: Array<[number, T]> = [];
    for (const t of f.locals) {
      const g = groups[groups.length - 1];
      if (g && g[1] === t) g[0]++;
      else groups.push([1, t]);
    }
    body.u32(groups.length);
    for (const [n, t] of groups) body.u32(n).byte(t);
    body.bytes(f.code.view()).byte(Op.end);
    cs.sized(body);
  }
  section(10, cs);
  return out.view().slice();
}
