/**
 * The serial port backends chosen on the command line (QEMU's serial_hds[] / serial_hd(i) in vl.c),
 * and the console escape keys of `-nographic` / `-serial mon:stdio`.
 *
 * QEMU puts stdio behind a mux chardev shared with the monitor; the escape character (Ctrl-A)
 * followed by a key controls it. We have no HMP-on-stdio mux, so the same keys are handled by a thin
 * filter between the stdio chardev and the serial port: C-a x quits, C-a h prints help, C-a b sends a
 * break, C-a C-a sends C-a itself. Everything else goes to the guest.
 */
import type { CharFrontend, Chardev } from '../../chardev/char.js';
import { qmpQuit } from '../../system/runstate.js';
import { onQomRootReset } from '../../qom/object.js';

const serialHds: (Chardev | null)[] = [];
const escaped = new WeakSet<Chardev>();

export const TERM_ESCAPE_CHAR = 0x01; // C-a

export function setSerialHd(index: number, chr: Chardev | null, escapeKeys = false): void {
  serialHds[index] = chr;
  if (chr && escapeKeys) escaped.add(chr);
}

/** serial_hd(i): the backend of serial port i, or null. */
export function serialHd(index: number): Chardev | null {
  return serialHds[index] ?? null;
}

export function serialHdCount(): number {
  return serialHds.length;
}

onQomRootReset(() => {
  serialHds.length = 0;
});

const HELP = [
  '% h    print this help\n\r',
  '% x    exit emulator\n\r',
  '% b    send break (magic sysrq)\n\r',
  '% %  sends %\n\r',
];

export function escapeHelpText(): string {
  return '\n\r' + HELP.map((l) => l.replace(/%/g, 'C-a')).join('');
}

/** Wrap a frontend with the escape-key filter if `chr` asked for it (mux_proc_byte). */
export function withEscapeKeys(chr: Chardev, fe: CharFrontend): CharFrontend {
  if (!escaped.has(chr)) return fe;
  let pending = false;
  return {
    canRead: () => Math.max(fe.canRead(), pending ? 1 : 0),
    event: (ev) => fe.event(ev),
    read: (data) => {
      const out: number[] = [];
      const flush = () => {
        if (out.length) fe.read(Buffer.from(out.splice(0)));
      };
      for (const b of data) {
        if (pending) {
          pending = false;
          if (b === TERM_ESCAPE_CHAR) {
            out.push(b);
          } else if (b === 0x78 /* x */) {
            flush();
            chr.write('QEMU: Terminated\n\r');
            qmpQuit();
            return;
          } else if (b === 0x68 /* h */ || b === 0x3f /* ? */) {
            chr.write(escapeHelpText());
          } else if (b === 0x62 /* b */) {
            flush();
            fe.event('break');
          }
          continue;
        }
        if (b === TERM_ESCAPE_CHAR) pending = true;
        else out.push(b);
      }
      flush();
    },
  };
}
