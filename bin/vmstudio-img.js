#!/usr/bin/env node
// The disk image tool (qemu-img compatible). Built by `npm run build` into dist/.
import { imgMain } from '../dist/engine/qemu-img/qemu-img.js';

const code = await imgMain(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
