/**
 * Migration transports (QEMU's migration/{socket,exec,file}.c, simplified to whole streams): the
 * outgoing side delivers a finished stream to "unix:PATH", "tcp:HOST:PORT", "exec:COMMAND" (the
 * command's stdin) or "file:PATH" (QEMU 8.2's file: URI); the incoming side listens on / runs / reads
 * the same and resolves with everything received once the peer closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import net from 'node:net';
import { QapiError } from '../qapi/error.js';

export type MigrationUri =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'exec'; command: string }
  | { kind: 'file'; path: string; offset: number };

/** Parse a migration URI as QEMU does; anything else is QEMU's "valid migration protocol" error. */
export function parseMigrationUri(uri: string): MigrationUri {
  if (uri.startsWith('unix:')) return { kind: 'unix', path: uri.slice(5) };
  if (uri.startsWith('exec:')) return { kind: 'exec', command: uri.slice(5) };
  if (uri.startsWith('file:')) {
    const m = /^(.*?)(?:,offset=(\d+))?$/s.exec(uri.slice(5))!;
    return { kind: 'file', path: m[1]!, offset: m[2] ? Number(m[2]) : 0 };
  }
  if (uri.startsWith('tcp:')) {
    const rest = uri.slice(4);
    const i = rest.lastIndexOf(':');
    const port = Number(rest.slice(i + 1));
    if (i >= 0 && Number.isInteger(port) && port >= 0 && port < 65536) {
      const host = rest.slice(0, i).replace(/^\[(.*)\]$/, '$1');
      return { kind: 'tcp', host: host || '0.0.0.0', port };
    }
  }
  throw new QapiError("Parameter 'uri' expects a valid migration protocol");
}

/** Something that can be cancelled (migrate_cancel). */
export interface Cancellable {
  cancel(): void;
}

function errText(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return 'No such file or directory';
  if (code === 'ECONNREFUSED') return 'Connection refused';
  if (code === 'EACCES') return 'Permission denied';
  if (code === 'EPIPE') return 'Broken pipe';
  return e instanceof Error ? e.message : String(e);
}

/** Send `data` to the destination; resolves when it has all of it. */
export function sendStream(
  uri: MigrationUri,
  data: Uint8Array,
  onHandle: (c: Cancellable) => void,
): Promise<void> {
  switch (uri.kind) {
    case 'file':
      return (async () => {
        const fh = await open(uri.path, 'w').catch((e) => {
          throw new QapiError(`Failed to open file '${uri.path}': ${errText(e)}`);
        });
        let cancelled = false;
        onHandle({ cancel: () => void (cancelled = true) });
        try {
          await fh.write(data, 0, data.length, uri.offset);
          await fh.sync();
          if (cancelled) throw new QapiError('migration cancelled');
        } finally {
          await fh.close();
        }
      })();
    case 'unix':
    case 'tcp':
      return new Promise((resolve, reject) => {
        const sock = uri.kind === 'unix' ? net.connect(uri.path) : net.connect(uri.port, uri.host);
        let done = false;
        const fail = (msg: string) => {
          if (done) return;
          done = true;
          sock.destroy();
          reject(new QapiError(msg));
        };
        onHandle({ cancel: () => fail('migration cancelled') });
        sock.once('error', (e) =>
          fail(
            uri.kind === 'unix'
              ? `Failed to connect to '${uri.path}': ${errText(e)}`
              : `Failed to connect to '${uri.host}:${uri.port}': ${errText(e)}`,
          ),
        );
        sock.once('connect', () => {
          sock.end(data, () => {
            if (done) return;
            done = true;
            resolve();
          });
        });
      });
    case 'exec':
      return new Promise((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', uri.command], { stdio: ['pipe', 'ignore', 'inherit'] });
        let done = false;
        const fail = (msg: string) => {
          if (done) return;
          done = true;
          child.kill('SIGKILL');
          reject(new QapiError(msg));
        };
        onHandle({ cancel: () => fail('migration cancelled') });
        child.once('error', (e) => fail(`Failed to run '${uri.command}': ${errText(e)}`));
        child.stdin.on('error', (e) => fail(`Unable to write to command: ${errText(e)}`));
        child.stdin.end(data);
        child.once('close', (code) => {
          if (done) return;
          if (code === 0) {
            done = true;
            resolve();
          } else fail(`migration command '${uri.command}' exited with status ${code}`);
        });
      });
  }
}

/** Receive a whole stream from the source. `onListening` runs once sockets accept connections. */
export function receiveStream(
  uri: MigrationUri,
  onListening: () => void = () => {},
): { done: Promise<Uint8Array>; cancel: () => void } {
  let cancel: () => void = () => {};
  const done = new Promise<Uint8Array>((resolve, reject) => {
    switch (uri.kind) {
      case 'file':
        cancel = () => reject(new QapiError('migration cancelled'));
        readFile(uri.path)
          .then((b) => {
            onListening();
            resolve(new Uint8Array(b.buffer, b.byteOffset + uri.offset, b.length - uri.offset));
          })
          .catch((e) => reject(new QapiError(`Failed to open file '${uri.path}': ${errText(e)}`)));
        return;
      case 'unix':
      case 'tcp': {
        const server = net.createServer({ pauseOnConnect: false });
        cancel = () => {
          server.close();
          reject(new QapiError('migration cancelled'));
        };
        server.once('error', (e) =>
          reject(
            new QapiError(
              uri.kind === 'unix'
                ? `Failed to bind socket to ${uri.path}: ${errText(e)}`
                : `Failed to bind socket: ${errText(e)}`,
            ),
          ),
        );
        server.once('connection', (sock: net.Socket) => {
          server.close();
          const chunks: Buffer[] = [];
          sock.on('data', (d: Buffer) => chunks.push(d));
          sock.once('error', (e) => reject(new QapiError(errText(e))));
          sock.once('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
        });
        if (uri.kind === 'unix') server.listen(uri.path, onListening);
        else server.listen(uri.port, uri.host, onListening);
        return;
      }
      case 'exec': {
        const child: ChildProcess = spawn('/bin/sh', ['-c', uri.command], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        cancel = () => {
          child.kill('SIGKILL');
          reject(new QapiError('migration cancelled'));
        };
        const chunks: Buffer[] = [];
        child.stdout!.on('data', (d: Buffer) => chunks.push(d));
        child.once('error', (e) => reject(new QapiError(`Failed to run '${uri.command}': ${errText(e)}`)));
        child.once('close', () => resolve(new Uint8Array(Buffer.concat(chunks))));
        onListening();
        return;
      }
    }
  });
  return { done, cancel: () => cancel() };
}
