#!/usr/bin/env node
// The emulator process (QEMU-compatible command line). Built by `npm run build` into dist/.
import { main } from '../dist/engine/system/main.js';

const code = await main(process.argv.slice(2));
// Servers and timers may still hold the event loop: leave once stdout/stderr are flushed.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
