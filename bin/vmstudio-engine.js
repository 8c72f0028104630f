#!/usr/bin/env node
// The emulator process (QEMU-compatible command line). Built by `npm run build` into dist/.
import { main } from '../dist/engine/system/main.js';

process.exitCode = await main(process.argv.slice(2));
