import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { CharFrontend, ChrEvent } from './char.js';
import { chrParseCompat, parseChardevOpts } from './char-opts.js';
import {
  chardevDeleteAll,
  qemuChrNewFromOpts,
  qmpChardevAdd,
  qmpChardevRemove,
  qmpQueryChardev,
  qmpRingbufRead,
  qmpRingbufWrite,
} from './char-registry.js';
import { setChardevReportSink } from './report.js';
import { StdioChardev } from './char-stdio.js';
import { until } from '../../tests/helpers/until.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chr-'));
const reports: string[] = [];

afterEach(async () => {
  await chardevDeleteAll();
  setChardevReportSink(null);
  reports.length = 0;
});

function recorder(canRead = 4096): CharFrontend & { data: Buffer[]; events: ChrEvent[]; allow: number } {
  const fe = {
    data: [] as Buffer[],
    events: [] as ChrEvent[],
    allow: canRead,
    canRead: () => fe.allow,
    read: (d: Buffer) => void fe.data.push(Buffer.from(d)),
    event: (e: ChrEvent) => void fe.events.push(e),
  };
  return fe;
}

const open = (s: string) => qemuChrNewFromOpts(parseChardevOpts(s, 'backend', false));

describe('ringbuf', () => {
  it('keeps the newest bytes and implements ringbuf-read/-write', async () => {
    await open('ringbuf,id=rb,size=8');
    qmpRingbufWrite('rb', 'hello');
    qmpRingbufWrite('rb', 'aGVsbG8h', 'base64'); // "hello!"
    expect(qmpRingbufRead('rb', 100)).toBe('llohello!'.slice(-8));
    expect(qmpRingbufRead('rb', 10)).toBe('');
    qmpRingbufWrite('rb', 'ab\u0000cd');
    expect(qmpRingbufRead('rb', 2, 'base64')).toBe('YWI=');
    expect(qmpRingbufRead('rb', 10)).toBe(''); // stops at the NUL, as QEMU's C string
    expect(() => qmpRingbufRead('rb', 0)).toThrow('size must be greater than zero');
    expect(() => qmpRingbufRead('none', 1)).toThrow("Device 'none' not found");
    expect(() => qmpRingbufWrite('rb', '***', 'base64')).toThrow('Base64 data is not valid');
    await expect(open('ringbuf,id=bad,size=12')).rejects.toThrow(
      'size of ringbuf chardev must be power of two',
    );
  });

  it('query-chardev and chardev-add/remove', async () => {
    await qmpChardevAdd('n1', { type: 'null', data: {} });
    await qmpChardevAdd('r1', { type: 'ringbuf', data: {} });
    expect(qmpQueryChardev()).toEqual([
      { label: 'r1', filename: 'ringbuf', 'frontend-open': false },
      { label: 'n1', filename: 'null', 'frontend-open': false },
    ]);
    await expect(qmpChardevAdd('n1', { type: 'null', data: {} })).rejects.toThrow(
      "Chardev with id 'n1' already exists",
    );
    await expect(
      qmpChardevAdd('f1', { type: 'file', data: { out: path.join(dir, 'no/such/dir/x') } }),
    ).rejects.toThrow(/^Failed to add chardev 'f1': Could not open '.*': No such file or directory$/);
    await expect(qmpChardevRemove('zz')).rejects.toThrow("Chardev 'zz' not found");
    await qmpChardevRemove('n1');
    expect(qmpQueryChardev().map((c) => c.label)).toEqual(['r1']);
  });
});

describe('file', () => {
  it('writes (truncating or appending) and logs', async () => {
    const out = path.join(dir, 'out.txt');
    fs.writeFileSync(out, 'old');
    const chr = await open(`file,id=f,path=${out},logfile=${path.join(dir, 'log.txt')}`);
    chr.write('one');
    expect(fs.readFileSync(out, 'utf8')).toBe('one');
    await chardevDeleteAll();
    const chr2 = await open(`file,id=f2,path=${out},append=on`);
    chr2.write('two');
    expect(fs.readFileSync(out, 'utf8')).toBe('onetwo');
    expect(fs.readFileSync(path.join(dir, 'log.txt'), 'utf8')).toBe('one');
  });
});

describe('socket', () => {
  it('server: frontend flow control pauses and resumes the connection', async () => {
    const p = path.join(dir, 'flow.sock');
    const chr = await qemuChrNewFromOpts(chrParseCompat('flow', `unix:${p},server=on,wait=off`, false));
    const fe = recorder(0);
    chr.attachFrontend(fe);
    expect(chr.filename).toBe(`disconnected:unix:${p},server=on`);
    const c = net.connect(p);
    await until(() => fe.events.includes('opened'));
    expect(chr.filename).toBe(`unix:${p},server=on`);
    c.write('abcdef');
    await new Promise((r) => setTimeout(r, 50));
    expect(fe.data.length).toBe(0);
    fe.allow = 2;
    chr.acceptInput();
    expect(Buffer.concat(fe.data).toString()).toBe('abcdef');
    expect(fe.data.every((d) => d.length <= 2)).toBe(true);
    c.destroy();
    await until(() => fe.events.includes('closed'));
    expect(chr.beOpen).toBe(false);
  });

  it("server wait=on blocks until a client connects, printing QEMU's line", async () => {
    setChardevReportSink((k, m) => reports.push(`${k}: ${m}`));
    const p = path.join(dir, 'wait.sock');
    let opened = false;
    const pending = qemuChrNewFromOpts(chrParseCompat('w', `unix:${p},server=on`, false)).then((c) => {
      opened = true;
      return c;
    });
    await until(() => reports.length > 0);
    expect(reports).toEqual([`info: QEMU waiting for connection on: disconnected:unix:${p},server=on`]);
    await new Promise((r) => setTimeout(r, 30));
    expect(opened).toBe(false);
    const c = net.connect(p);
    const chr = await pending;
    expect(chr.beOpen).toBe(true);
    c.destroy();
  });

  it("client: fails with QEMU's text, or reconnects until the server appears", async () => {
    const p = path.join(dir, 'late.sock');
    await expect(open(`socket,id=cl,path=${p}`)).rejects.toThrow(
      `Failed to connect to '${p}': No such file or directory`,
    );
    setChardevReportSink((k, m) => reports.push(m));
    const chr = await open(`socket,id=cl2,path=${p},reconnect=1`);
    const fe = recorder();
    chr.attachFrontend(fe);
    await until(() => reports.length > 0);
    expect(reports[0]).toMatch(/^Unable to connect character device cl2: Failed to connect to/);
    const got: Buffer[] = [];
    const srv = net.createServer((s) => s.on('data', (d) => got.push(d)));
    await new Promise<void>((r) => srv.listen(p, () => r()));
    await until(() => fe.events.includes('opened'), 4000);
    chr.write('ping');
    await until(() => Buffer.concat(got).toString() === 'ping');
    await chardevDeleteAll();
    await new Promise((r) => srv.close(r));
  });

  it('tcp binds exactly the given address and reports port conflicts', async () => {
    const chr = await open('socket,id=t1,host=127.0.0.1,port=0,server=on,wait=off');
    const port = /:(\d+),server=on$/.exec(chr.filename)![1];
    await expect(open(`socket,id=t2,host=127.0.0.1,port=${port},server=on,wait=off`)).rejects.toThrow(
      'Failed to find an available port: Address already in use',
    );
    await expect(open('socket,id=t3,host=127.0.0.1,port=1,server=off,reconnect=0')).rejects.toThrow(
      "Failed to connect to '127.0.0.1:1': Connection refused",
    );
    await expect(open('socket,id=t4,path=/x,server=on,reconnect=1')).rejects.toThrow(
      "'reconnect' option is incompatible with socket in server listen mode",
    );
  });
});

describe('stdio', () => {
  it('delivers input, writes output, keeps stdout usable at end of input, and is exclusive', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const chr = new StdioChardev('s', {}, { input, output });
    await chr.open({});
    const fe = recorder();
    chr.attachFrontend(fe);
    expect(fe.events).toEqual(['opened']);
    const other = new StdioChardev('s2', {}, { input: new PassThrough(), output: new PassThrough() });
    await expect(other.open({})).rejects.toThrow('cannot use stdio by multiple character devices');
    input.write('abc');
    await until(() => fe.data.length > 0);
    expect(Buffer.concat(fe.data).toString()).toBe('abc');
    chr.write('out');
    expect(output.read()?.toString()).toBe('out');
    input.end();
    await until(() => (chr as StdioChardev).inputEnded);
    expect(fe.events).not.toContain('closed');
    await chr.close();
  });
});
