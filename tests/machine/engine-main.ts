/**
 * Runs the engine from source (through tsx) for the machine tests, so they do not depend on a
 * `npm run build` of dist/: `node --import tsx tests/machine/engine-main.ts <qemu args>`.
 * VMSTUDIO_JIT=0 runs the harts in the interpreter only (to tell JIT problems from others).
 */
import { jitConfig } from '../../engine/target/riscv/jit.js';

if (process.env['VMSTUDIO_JIT'] === '0') jitConfig.enabled = false;
const { main } = await import('../../engine/system/main.js');
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
