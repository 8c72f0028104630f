/**
 * Child process for the kill-during-write test: opens a qcow2 image through the block layer and
 * writes, zeroes, discards and flushes at random until it is killed. Prints "ready" once open.
 * argv: image, seed.
 */
import { bdrvOpen } from '../../engine/block/block.js';
import { blkNew } from '../../engine/block/block-backend.js';

const [file, seedArg] = process.argv.slice(2);
let x = Number(seedArg) >>> 0 || 1;
const rnd = (): number => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
};
const bs = await bdrvOpen({ driver: 'qcow2', filename: file! });
const blk = blkNew('w', bs);
blk.root!.discard = 'unmap';
const size = blk.getLength();
process.stdout.write('ready\n');
for (;;) {
  const off = rnd() % size;
  const len = Math.min(size - off, 1 + (rnd() % 200000));
  const k = rnd() % 10;
  if (k < 7) {
    const data = new Uint8Array(len);
    for (let i = 0; i < len; i += 512) data[i] = rnd() & 0xff;
    await blk.pwrite(off, data);
  } else if (k === 7) await blk.pwriteZeroes(off, len, { mayUnmap: true });
  else if (k === 8) await blk.pdiscard(off, len);
  else await blk.flush();
}
