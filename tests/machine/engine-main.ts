/**
 * Runs the engine from source (through tsx) for the machine tests, so they do not depend on a
 * `npm run build` of dist/: `node --import tsx tests/machine/engine-main.ts <qemu args>`.
 */
import { main } from '../../engine/system/main.js';

const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
