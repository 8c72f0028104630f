/** Runs the engine from source (tsx) for the snapshot interop tests. */
import { main } from '../../engine/system/main.js';

const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.exit(code));
