/**
 * The stand-in engine for tests of the app (fake-engine.mjs: speaks QMP and a serial console, boots
 * nothing). Test-only (under testing/, which the package leaves out).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineCommand } from '../engine-process.js';

/** Path of the stand-in engine script. */
export const FAKE_ENGINE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fake-engine.mjs');

/** How to run it: this Node on the script. */
export function fakeEngineCommand(): EngineCommand {
  return { command: process.execPath, prefix: [FAKE_ENGINE] };
}
