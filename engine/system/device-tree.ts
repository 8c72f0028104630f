/**
 * Flattened device tree building and (de)serialisation (QEMU's softmmu/device_tree.c over libfdt).
 *
 * Boards build the tree with path-based calls like qemu_fdt_add_subnode/qemu_fdt_setprop_*. The tree
 * keeps libfdt's ordering rules, because QEMU's DTBs (and `dtc -O dts` of them) show them: a new
 * property is inserted before the node's existing properties, a new subnode before the existing
 * subnodes (libfdt splices both right after the node header / property list). Setting an existing
 * property replaces its value in place. So `toDtb()` of a tree built in QEMU's call order is laid out
 * like QEMU's blob: header, empty memory reservation map, structure block, strings block, with
 * strings shared the way libfdt's fdt_find_add_string_ shares them (a new name that is the tail of a
 * stored one reuses it).
 *
 * `parseDtb` and `formatDts` (dtc's DTS output, same value-type guesses) let tests and `info`-style
 * tools read blobs back without dtc.
 */

export const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const HEADER_SIZE = 40;

export interface FdtProp {
  name: string;
  value: Uint8Array;
}

export class FdtNode {
  /** Properties and children in blob order (see the module comment). */
  readonly props: FdtProp[] = [];
  readonly children: FdtNode[] = [];
  constructor(readonly name: string) {}

  prop(name: string): Uint8Array | undefined {
    return this.props.find((p) => p.name === name)?.value;
  }
  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name);
  }
}

/** A device tree error, worded like QEMU's device_tree.c error_report()s. */
export class FdtError extends Error {}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function cellsToBytes(cells: readonly (number | bigint)[]): Uint8Array {
  const out = new Uint8Array(cells.length * 4);
  const dv = new DataView(out.buffer);
  cells.forEach((c, i) => dv.setUint32(i * 4, Number(BigInt.asUintN(32, BigInt(c)))));
  return out;
}

export function stringsToBytes(strs: readonly string[]): Uint8Array {
  const parts = strs.map((s) => enc.encode(s + '\0'));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export class Fdt {
  readonly root = new FdtNode('');
  /** Next phandle qemu_fdt_alloc_phandle() hands out (QEMU starts at 0x8000 for boards that use it). */
  private nextPhandle = 0x8000;
  /** Strings block, grown when a property name is first used (libfdt adds names at setprop time). */
  private readonly strtab = new StringTable();

  /** load_device_tree(): a tree read from a blob (`-dtb`); later setprops follow libfdt's rules. */
  static fromDtb(buf: Uint8Array): Fdt {
    const f = new Fdt();
    const root = parseDtb(buf);
    f.root.props.push(...root.props);
    f.root.children.push(...root.children);
    const walk = (n: FdtNode): void => {
      for (const p of n.props) f.strtab.offset(p.name);
      n.children.forEach(walk);
    };
    walk(root);
    return f;
  }

  /** The node at `path` ("/", "/soc/plic@c000000"), or undefined. */
  node(path: string): FdtNode | undefined {
    if (path === '/') return this.root;
    let n: FdtNode | undefined = this.root;
    for (const part of path.split('/').slice(1)) {
      n = n?.child(part);
      if (!n) return undefined;
    }
    return n;
  }

  nodeExists(path: string): boolean {
    return this.node(path) !== undefined;
  }

  private nodeOrThrow(path: string): FdtNode {
    const n = this.node(path);
    if (!n) throw new FdtError(`Couldn't find node ${path}: FDT_ERR_NOTFOUND`);
    return n;
  }

  /** qemu_fdt_add_subnode(): the parent must exist; the new node goes before existing subnodes. */
  addSubnode(path: string): FdtNode {
    const i = path.lastIndexOf('/');
    const parentPath = i <= 0 ? '/' : path.slice(0, i);
    const name = path.slice(i + 1);
    const parent = this.node(parentPath);
    if (!parent) throw new FdtError(`FDT: Failed to create subnode ${path}: FDT_ERR_NOTFOUND`);
    if (parent.child(name)) throw new FdtError(`FDT: Failed to create subnode ${path}: FDT_ERR_EXISTS`);
    const n = new FdtNode(name);
    parent.children.unshift(n);
    return n;
  }

  /** qemu_fdt_setprop(): replace in place, or insert before the node's existing properties. */
  setprop(path: string, name: string, value: Uint8Array): void {
    const n = this.nodeOrThrow(path);
    const p = n.props.find((x) => x.name === name);
    if (p) {
      p.value = value;
    } else {
      this.strtab.offset(name);
      n.props.unshift({ name, value });
    }
  }
  setpropEmpty(path: string, name: string): void {
    this.setprop(path, name, new Uint8Array(0));
  }
  setpropCell(path: string, name: string, v: number): void {
    this.setprop(path, name, cellsToBytes([v]));
  }
  setpropCells(path: string, name: string, ...cells: (number | bigint)[]): void {
    this.setprop(path, name, cellsToBytes(cells));
  }
  setpropU64(path: string, name: string, v: number | bigint): void {
    const b = BigInt(v);
    this.setprop(path, name, cellsToBytes([b >> 32n, b & 0xffffffffn]));
  }
  setpropString(path: string, name: string, s: string): void {
    this.setprop(path, name, stringsToBytes([s]));
  }
  setpropStringArray(path: string, name: string, strs: readonly string[]): void {
    this.setprop(path, name, stringsToBytes(strs));
  }

  getprop(path: string, name: string): Uint8Array | undefined {
    return this.node(path)?.prop(name);
  }
  getpropCell(path: string, name: string): number | undefined {
    const v = this.getprop(path, name);
    if (!v || v.length !== 4) return undefined;
    return new DataView(v.buffer, v.byteOffset, 4).getUint32(0);
  }

  /** qemu_fdt_alloc_phandle(). */
  allocPhandle(): number {
    return this.nextPhandle++;
  }

  /** The packed blob (fdt_pack()ed: no free space). */
  toDtb(bootCpuidPhys = 0): Uint8Array {
    return serialize(this.root, bootCpuidPhys, this.strtab);
  }
}

/** libfdt's strings block: a new name reuses any stored "name\0" it is a tail of (fdt_find_add_string_). */
class StringTable {
  bytes = new Uint8Array(256);
  length = 0;

  offset(name: string): number {
    const needle = enc.encode(name + '\0');
    outer: for (let i = 0; i + needle.length <= this.length; i++) {
      for (let j = 0; j < needle.length; j++) if (this.bytes[i + j] !== needle[j]) continue outer;
      return i;
    }
    if (this.length + needle.length > this.bytes.length) {
      const grown = new Uint8Array((this.length + needle.length) * 2);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(needle, this.length);
    this.length += needle.length;
    return this.length - needle.length;
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function serialize(root: FdtNode, bootCpuid: number, strings = new StringTable()): Uint8Array {
  const strOff = (name: string): number => strings.offset(name);
  const words: number[] = [];
  const bytes = (b: Uint8Array): void => {
    const padded = new Uint8Array(align4(b.length));
    padded.set(b);
    const dv = new DataView(padded.buffer);
    for (let i = 0; i < padded.length; i += 4) words.push(dv.getUint32(i));
  };
  const walk = (n: FdtNode): void => {
    words.push(FDT_BEGIN_NODE);
    bytes(enc.encode(n.name + '\0'));
    for (const p of n.props) {
      words.push(FDT_PROP, p.value.length, strOff(p.name));
      bytes(p.value);
    }
    for (const c of n.children) walk(c);
    words.push(FDT_END_NODE);
  };
  walk(root);
  words.push(FDT_END);
  const rsvOff = HEADER_SIZE; // 8-byte aligned already
  const structOff = rsvOff + 16;
  const structSize = words.length * 4;
  const stringsOff = structOff + structSize;
  const strLen = strings.length;
  const total = stringsOff + strLen;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const hdr = [FDT_MAGIC, total, structOff, stringsOff, rsvOff, 17, 16, bootCpuid, strLen, structSize];
  hdr.forEach((v, i) => dv.setUint32(i * 4, v));
  words.forEach((w, i) => dv.setUint32(structOff + i * 4, w));
  out.set(strings.bytes.subarray(0, strLen), stringsOff);
  return out;
}

/** Read a blob back into a tree (structure only; the reservation map is ignored). */
export function parseDtb(buf: Uint8Array): FdtNode {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < HEADER_SIZE || dv.getUint32(0) !== FDT_MAGIC) throw new FdtError('not a device tree blob');
  const structOff = dv.getUint32(8);
  const stringsOff = dv.getUint32(12);
  const cstr = (off: number): [string, number] => {
    let e = off;
    while (e < buf.length && buf[e] !== 0) e++;
    return [dec.decode(buf.subarray(off, e)), e + 1];
  };
  let p = structOff;
  const stack: FdtNode[] = [];
  let root: FdtNode | null = null;
  for (;;) {
    const tag = dv.getUint32(p);
    p += 4;
    if (tag === FDT_BEGIN_NODE) {
      const [name, end] = cstr(p);
      p = align4(end);
      const n = new FdtNode(name);
      if (stack.length) stack[stack.length - 1]!.children.push(n);
      else root = n;
      stack.push(n);
    } else if (tag === FDT_PROP) {
      const len = dv.getUint32(p);
      const nameOff = dv.getUint32(p + 4);
      p += 8;
      const value = buf.slice(p, p + len);
      p = align4(p + len);
      stack[stack.length - 1]!.props.push({ name: cstr(stringsOff + nameOff)[0], value });
    } else if (tag === FDT_END_NODE) {
      stack.pop();
    } else if (tag === FDT_NOP) {
      continue;
    } else if (tag === FDT_END) {
      break;
    } else {
      throw new FdtError(`bad FDT tag ${tag} at ${p - 4}`);
    }
  }
  if (!root) throw new FdtError('empty device tree');
  return root;
}

// --- dtc-style DTS text ----------------------------------------------------------------------

const isString = (c: number) => (c >= 0x20 && c < 0x7f) || c === 0 || (c >= 7 && c <= 13);

/** dtc's guess_value_type(): string, cells or bytes. */
function formatValue(v: Uint8Array): string {
  const len = v.length;
  let notString = 0;
  let nul = 0;
  for (const c of v) {
    if (!isString(c)) notString++;
    if (c === 0) nul++;
  }
  if (v[len - 1] === 0 && notString === 0 && nul <= len - nul) {
    let s = '';
    for (let i = 0; i < len - 1; i++) {
      const c = v[i]!;
      const esc: Record<number, string> = {
        7: '\\a',
        8: '\\b',
        9: '\\t',
        10: '\\n',
        11: '\\v',
        12: '\\f',
        13: '\\r',
      };
      if (c === 0) s += '\\0';
      else if (c === 0x5c) s += '\\\\';
      else if (c === 0x22) s += '\\"';
      else if (esc[c]) s += esc[c];
      else s += String.fromCharCode(c);
    }
    return `"${s}"`;
  }
  if (len % 4 === 0) {
    const dv = new DataView(v.buffer, v.byteOffset, len);
    const cells: string[] = [];
    for (let i = 0; i < len; i += 4) cells.push('0x' + dv.getUint32(i).toString(16).padStart(2, '0'));
    return `<${cells.join(' ')}>`;
  }
  return `[${Array.from(v, (b) => b.toString(16).padStart(2, '0')).join(' ')}]`;
}

/** `dtc -I dtb -O dts` text for a tree (as read by parseDtb). */
export function formatDts(root: FdtNode): string {
  let out = '/dts-v1/;\n\n';
  const walk = (n: FdtNode, depth: number): void => {
    const ind = '\t'.repeat(depth);
    out += `${ind}${depth === 0 ? '/' : n.name} {\n`;
    for (const p of n.props) {
      out += p.value.length === 0 ? `${ind}\t${p.name};\n` : `${ind}\t${p.name} = ${formatValue(p.value)};\n`;
    }
    for (const c of n.children) {
      out += '\n';
      walk(c, depth + 1);
    }
    out += `${ind}};\n`;
  };
  walk(root, 0);
  return out;
}

/** `-machine dumpdtb=FILE` wrote the blob: vl reports it and exits successfully (QEMU exits too). */
export class DumpDtbExit extends Error {
  constructor(readonly path: string) {
    super(`dtb dumped to ${path}. Exiting.`);
  }
}
