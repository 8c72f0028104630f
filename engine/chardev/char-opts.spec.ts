import { afterEach, describe, expect, it } from 'vitest';
import { chardevBackendFromOpts, chrParseCompat, parseChardevOpts } from './char-opts.js';
import { setChardevReportSink } from './report.js';

const reports: string[] = [];
afterEach(() => {
  setChardevReportSink(null);
  reports.length = 0;
});

function backend(s: string): unknown {
  const o = parseChardevOpts(s, 'backend', true);
  return { id: o.id, backend: chardevBackendFromOpts(o) };
}

describe('-chardev options', () => {
  it('parses a unix server', () => {
    expect(backend('socket,id=q,path=/tmp/q.sock,server=on,wait=off')).toEqual({
      id: 'q',
      backend: {
        type: 'socket',
        data: {
          logappend: false,
          addr: { type: 'unix', data: { path: '/tmp/q.sock', tight: true, abstract: false } },
          server: true,
          wait: false,
        },
      },
    });
  });

  it('parses tcp with nodelay, ",," escapes and a client reconnect', () => {
    expect(backend('socket,id=t,host=127.0.0.1,port=4444,nodelay=on')).toMatchObject({
      backend: {
        data: {
          addr: { type: 'inet', data: { host: '127.0.0.1', port: '4444' } },
          nodelay: true,
          server: false,
        },
      },
    });
    expect(backend('socket,id=c,path=/tmp/a,,b,reconnect=2')).toMatchObject({
      backend: { data: { addr: { data: { path: '/tmp/a,b' } }, reconnect: 2 } },
    });
  });

  it('warns about short-form booleans like QEMU 6.0+', () => {
    setChardevReportSink((kind, msg) => reports.push(`${kind}: ${msg}`));
    expect(backend('socket,id=s,path=/x,server,nowait')).toMatchObject({
      backend: { data: { server: true, wait: false } },
    });
    expect(reports).toEqual([
      "warning: short-form boolean option 'server' deprecated\nPlease use server=on instead",
      "warning: short-form boolean option 'nowait' deprecated\nPlease use wait=off instead",
    ]);
  });

  it('reports QEMU errors', () => {
    expect(() => backend('socket,id=x,path=/a,host=h,port=1')).toThrow(
      "None or one of 'path', 'fd' or 'host' option required.",
    );
    expect(() => backend('socket,id=x,host=h')).toThrow('chardev: socket: no port given');
    expect(() => backend('socket,id=x,path=/a,server=maybe')).toThrow(
      "Parameter 'server' expects 'on' or 'off'",
    );
    expect(() => backend('socket,id=x,bogus=1')).toThrow("Invalid parameter 'bogus'");
    expect(() => backend('id=x')).toThrow('chardev: "x" missing backend');
    expect(() => backend('serialx,id=x')).toThrow("'serialx' is not a valid char driver name");
    expect(() => backend('file,id=f')).toThrow('chardev: file: no filename given');
    expect(() => backend('socket,id=1x,path=/a')).toThrow("Parameter 'id' expects an identifier");
    expect(() => backend('ringbuf,id=r,size=12q')).toThrow(
      "Parameter 'size' expects a non-negative number below 2^64",
    );
  });

  it('parses ringbuf sizes with suffixes and stdio signal', () => {
    expect(backend('ringbuf,id=r,size=4k')).toMatchObject({
      backend: { type: 'ringbuf', data: { size: 4096 } },
    });
    expect(backend('stdio,id=s,signal=off')).toMatchObject({
      backend: { type: 'stdio', data: { signal: false } },
    });
  });
});

describe('legacy syntax (qemu_chr_parse_compat)', () => {
  const compat = (s: string) => chardevBackendFromOpts(chrParseCompat('compat_monitor0', s, true));

  it('understands -qmp forms', () => {
    expect(compat('unix:/tmp/q.sock,server=on,wait=off')).toMatchObject({
      type: 'socket',
      data: { addr: { type: 'unix', data: { path: '/tmp/q.sock' } }, server: true, wait: false },
    });
    setChardevReportSink((k, m) => reports.push(m));
    expect(compat('tcp:127.0.0.1:4444,server,nowait')).toMatchObject({
      data: { addr: { type: 'inet', data: { host: '127.0.0.1', port: '4444' } }, server: true, wait: false },
    });
    expect(reports).toEqual([]); // the legacy form does not warn
    expect(compat('tcp::5555,server=on')).toMatchObject({
      data: { addr: { data: { host: '', port: '5555' } }, wait: true },
    });
    expect(compat('stdio')).toEqual({ type: 'stdio', data: { logappend: false } });
    expect(compat('file:/tmp/out.txt')).toMatchObject({ type: 'file', data: { out: '/tmp/out.txt' } });
    expect(chrParseCompat('m', 'mon:stdio', true).opts.get('mux')).toBe('on');
  });

  it('rejects unknown forms', () => {
    expect(() => compat('bogus')).toThrow("'bogus' is not a valid char driver");
    expect(() => compat('tcp:nohostport')).toThrow("'tcp:nohostport' is not a valid char driver");
    expect(() => chrParseCompat('m', 'mon:stdio', false)).toThrow("mon: isn't supported in this context");
  });
});
