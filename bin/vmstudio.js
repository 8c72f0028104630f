#!/usr/bin/env node
// The app: Electron window where Electron is installed, otherwise (or with --web) the web UI.
import { main } from '../dist/main/app/start.js';

await main(process.argv.slice(2));
