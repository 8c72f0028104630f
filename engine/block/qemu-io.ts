/**
 * HMP `qemu-io [-d] device "command"` (QEMU's hmp_qemu_io and a subset of qemu-io-cmds.c): I/O on
 * a drive or node from the monitor, the way QEMU's own tests poke disks without a guest. Commands:
 * `read [-P pattern] [-v] [-q] offset length`, `write [-P pattern] [-z] [-q] offset length`,
 * `discard [-q] offset length`, `flush`. Offsets and lengths take k/M/G/T suffixes (powers of 1024).
 *
 * The texts are qemu-io's ("wrote 4096/4096 bytes at offset 0", "Pattern verification failed at
 * offset 0, 4096 bytes", "read failed: Input/output error"); QEMU prints them on its stdout, we
 * return them as the command's output so QMP clients see them.
 */
import { QapiError } from '../qapi/error.js';
import { registerHmpCommand } from '../monitor/hmp.js';
import { bdrvFindNode } from './block.js';
import { BlockBackend, blkAll, blkByName } from './block-backend.js';
import { BlockIoError } from './block-error.js';

/** qemu_strtosz(): a number (decimal, or 0x hex) with an optional binary suffix. */
function cvtnum(s: string): number | null {
  const m = /^(0x[0-9a-f]+|\d+(?:\.\d+)?)([kmgtpe]?)b?$/i.exec(s);
  if (!m) return null;
  const base = m[1]!.toLowerCase().startsWith('0x') ? Number.parseInt(m[1]!, 16) : Number(m[1]);
  const shift = ' kmgtpe'.indexOf((m[2] || ' ').toLowerCase()) * 10;
  const v = base * 2 ** shift;
  return Number.isSafeInteger(v) ? v : null;
}

/** cvtstr(): "4 KiB", "32 bytes", "2.267 MiB". */
function cvtstr(value: number): string {
  const units: Array<[number, string]> = [
    [2 ** 60, ' EiB'],
    [2 ** 50, ' PiB'],
    [2 ** 40, ' TiB'],
    [2 ** 30, ' GiB'],
    [2 ** 20, ' MiB'],
    [2 ** 10, ' KiB'],
  ];
  let suffix = ' bytes';
  for (const [u, s] of units) {
    if (value >= u) {
      value /= u;
      suffix = s;
      break;
    }
  }
  const f = value.toFixed(3);
  return f.endsWith('.000') ? f.slice(0, -4) + suffix : f + suffix;
}

/** print_report(): "4 KiB, 1 ops; 00.00 sec (2.267 MiB/sec and 580.4356 ops/sec)". */
function report(verb: string, done: number, total: number, offset: number, ms: number): string {
  const secs = Math.max(ms / 1000, 1e-6);
  const t = `${String(Math.floor(secs)).padStart(2, '0')}.${String(Math.floor((secs % 1) * 100)).padStart(2, '0')} sec`;
  return (
    `${verb} ${done}/${total} bytes at offset ${offset}\n` +
    `${cvtstr(total)}, 1 ops; ${t} (${cvtstr(total / secs)}/sec and ${(1 / secs).toFixed(4)} ops/sec)\n`
  );
}

/** dump_buffer(): 16 bytes a line, hex then printable characters. */
function dumpBuffer(buf: Uint8Array, offset: number): string {
  let out = '';
  for (let i = 0; i < buf.length; i += 16) {
    const row = buf.subarray(i, i + 16);
    out += `${(offset + i).toString(16).padStart(8, '0')}:  `;
    for (const b of row) out += `${b.toString(16).padStart(2, '0')} `;
    out += ' ';
    for (const b of row) out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    out += '\n';
  }
  return out;
}

/** Split a qemu-io command line like its shell: whitespace-separated words, quotes removed. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

interface Parsed {
  flags: Set<string>;
  pattern: number | null;
  args: string[];
}

function getopt(argv: string[], flags: string, withPattern: boolean): Parsed | string {
  const out: Parsed = { flags: new Set(), pattern: null, args: [] };
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '-'; i++) {
    const a = argv[i]!;
    if (a === '-P' && withPattern) {
      const p = argv[++i];
      const v = p === undefined ? Number.NaN : Number(p);
      if (!Number.isInteger(v) || v < 0 || v > 255) return `non-numeric pattern: ${p ?? ''}\n`;
      out.pattern = v;
    } else if (a.length === 2 && flags.includes(a[1]!)) {
      out.flags.add(a[1]!);
    } else {
      return `invalid option -- '${a.slice(1)}'\n`;
    }
  }
  out.args = argv.slice(i);
  return out;
}

function strerror(e: unknown): string {
  if (e instanceof BlockIoError) return e.message;
  throw e;
}

/** qemuio_command(): run one command on `blk`, return its output. */
export async function qemuioCommand(blk: BlockBackend, line: string): Promise<string> {
  const [cmd, ...argv] = words(line);
  if (cmd === undefined) return '';
  const range = (p: Parsed): [number, number] | string => {
    if (p.args.length < 2)
      return `bad argument count ${p.args.length} to ${cmd}, expected at least 2 arguments\n`;
    if (p.args.length > 2)
      return `bad argument count ${p.args.length} to ${cmd}, expected between 2 and 2 arguments\n`;
    const nums = p.args.map(cvtnum);
    const bad = nums.findIndex((n) => n === null || n < 0);
    if (bad >= 0)
      return `Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- ${p.args[bad]}\n`;
    return [nums[0]!, nums[1]!];
  };
  switch (cmd) {
    case 'read': {
      const p = getopt(argv, 'vq', true);
      if (typeof p === 'string') return p;
      const r = range(p);
      if (typeof r === 'string') return r;
      const [off, len] = r;
      const t0 = performance.now();
      let buf: Uint8Array;
      try {
        buf = await blk.pread(off, len);
      } catch (e) {
        return `read failed: ${strerror(e)}\n`;
      }
      const ms = performance.now() - t0;
      let out = '';
      if (p.pattern !== null) {
        const bad = buf.findIndex((b) => b !== p.pattern);
        if (bad >= 0) out += `Pattern verification failed at offset ${off}, ${len} bytes\n`;
      }
      if (p.flags.has('q')) return out;
      if (p.flags.has('v')) out += dumpBuffer(buf, off);
      return out + report('read', len, len, off, ms);
    }
    case 'write': {
      const p = getopt(argv, 'zqu', true);
      if (typeof p === 'string') return p;
      const r = range(p);
      if (typeof r === 'string') return r;
      const [off, len] = r;
      if (p.flags.has('z') && p.pattern !== null) return '-z and -P cannot be specified at the same time\n';
      const t0 = performance.now();
      try {
        if (p.flags.has('z')) await blk.pwriteZeroes(off, len, { mayUnmap: p.flags.has('u') });
        else await blk.pwrite(off, new Uint8Array(len).fill(p.pattern ?? 0xcd));
      } catch (e) {
        return `write failed: ${strerror(e)}\n`;
      }
      return p.flags.has('q') ? '' : report('wrote', len, len, off, performance.now() - t0);
    }
    case 'discard': {
      const p = getopt(argv, 'q', false);
      if (typeof p === 'string') return p;
      const r = range(p);
      if (typeof r === 'string') return r;
      const [off, len] = r;
      const t0 = performance.now();
      try {
        await blk.pdiscard(off, len);
      } catch (e) {
        return `discard failed: ${strerror(e)}\n`;
      }
      return p.flags.has('q') ? '' : report('discard', len, len, off, performance.now() - t0);
    }
    case 'flush':
      try {
        await blk.flush();
      } catch (e) {
        return `flush failed: ${strerror(e)}\n`;
      }
      return '';
    default:
      return `command "${cmd}" not found\n`;
  }
}

/** The backend `device` names, or a throwaway one over the node of that name (hmp_qemu_io). */
function lookup(device: string, qdev: boolean): BlockBackend {
  if (qdev) {
    const blk = blkAll().find((b) => b.dev === device || b.dev?.endsWith(`/${device}`));
    if (!blk) throw new QapiError(`Cannot find device='${device}' nor node-name=''`);
    return blk;
  }
  const blk = blkByName(device);
  if (blk) return blk;
  const bs = bdrvFindNode(device);
  if (!bs) throw new QapiError(`Cannot find device='' nor node-name='${device}'`);
  return new BlockBackend('', bs);
}

/** HMP arguments: `[-d] device "command"` (the command may be quoted or the rest of the line). */
export async function hmpQemuIo(args: string): Promise<string> {
  let rest = args.trim();
  let qdev = false;
  if (rest.startsWith('-d ')) {
    qdev = true;
    rest = rest.slice(3).trim();
  }
  const dm = /^(\S+)\s*(.*)$/s.exec(rest);
  if (!dm || dm[1] === '')
    return 'qemu-io: block device name expected\nTry "help qemu-io" for more information\n';
  const device = dm[1]!;
  let command = dm[2]!.trim();
  if (command === '') return 'qemu-io: string expected\nTry "help qemu-io" for more information\n';
  const q = /^"((?:[^"\\]|\\.)*)"\s*$/s.exec(command);
  if (q) command = q[1]!.replace(/\\(.)/g, '$1');
  return qemuioCommand(lookup(device, qdev), command);
}

registerHmpCommand({
  name: 'qemu-io',
  params: '[-d] [device] "[command]"',
  help: 'run a qemu-io command on a block device\n\t\t\t-d: [device] is a device ID rather than a drive ID or node name',
  takesArgs: true,
  handler: (args) => hmpQemuIo(args),
});
