/**
 * The "globalstate" section (QEMU's migration/global_state.c): the source's run state at the time of
 * the save, so an incoming migration ends in the same state (a paused source gives a paused
 * destination) instead of always running.
 */
import { RunState_lookup } from '../qapi/generated/qapi-types.js';
import { runstateGet, type RunState } from '../system/runstate.js';
import { EINVAL, MigrationError } from './migration-error.js';
import type { VMStateDescription } from './vmstate-types.js';

const RUNSTATE_LEN = 100;

export const globalState = {
  size: 0,
  runstate: new Uint8Array(RUNSTATE_LEN),
  received: false,
};

/** global_state_store(): remember the current run state for the stream. */
export function globalStateStore(state: RunState = runstateGet()): void {
  globalState.runstate.fill(0);
  globalState.runstate.set(Buffer.from(state, 'latin1'));
  globalState.received = false;
}

/** The run state the source was in, or null if the stream had none. */
export function globalStateReceivedRunstate(): RunState | null {
  if (!globalState.received) return null;
  const end = globalState.runstate.indexOf(0);
  return Buffer.from(globalState.runstate.subarray(0, end < 0 ? RUNSTATE_LEN : end)).toString(
    'latin1',
  ) as RunState;
}

export function globalStateReset(): void {
  globalState.size = 0;
  globalState.runstate.fill(0);
  globalState.received = false;
}

export const vmstateGlobalState: VMStateDescription = {
  name: 'globalstate',
  versionId: 1,
  minimumVersionId: 1,
  fields: [
    { name: 'size', kind: 'uint32' },
    { name: 'runstate', kind: 'buffer', length: RUNSTATE_LEN },
  ],
  preSave(s: typeof globalState) {
    const end = s.runstate.indexOf(0);
    s.size = (end < 0 ? RUNSTATE_LEN : end) + 1;
  },
  preLoad(s: typeof globalState) {
    s.received = true;
  },
  postLoad(s: typeof globalState) {
    const end = s.runstate.indexOf(0);
    if (end < 0) throw new MigrationError(EINVAL, 'runstate name too big');
    const name = Buffer.from(s.runstate.subarray(0, end)).toString('latin1');
    if (!(RunState_lookup as readonly string[]).includes(name)) {
      throw new MigrationError(EINVAL, `invalid parameter value: ${name}`);
    }
  },
};
