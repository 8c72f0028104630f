/** The null chardev: output vanishes, input never comes (QEMU's chardev/char-null.c). */
import { Chardev } from './char.js';

export class NullChardev extends Chardev {
  readonly typeName = 'chardev-null';

  protected async openBackend(): Promise<void> {
    // QEMU's null backend does not report OPENED (be_opened = false).
  }

  protected chrWrite(data: Buffer): number {
    return data.length;
  }
}
