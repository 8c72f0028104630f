/** Runs vmstudio-img from source (tsx) for the block process tests. */
import { imgMain } from '../../engine/qemu-img/qemu-img.js';

const code = await imgMain(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
