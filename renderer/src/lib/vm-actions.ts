/**
 * Which lifecycle actions a VM offers in its current state, and, for each unavailable one, the exact
 * reason the UI shows (as a tooltip and next to disabled controls).
 */
import type { VmState } from '../../../main/api/contract.js';

export type VmAction =
  'start' | 'pause' | 'resume' | 'stop' | 'forceStop' | 'reset' | 'edit' | 'delete' | 'disks';

export interface Availability {
  enabled: boolean;
  /** Why it is disabled (empty when enabled). */
  reason: string;
}

const STATE_WORD: Record<VmState, string> = {
  stopped: 'stopped',
  starting: 'starting',
  running: 'running',
  paused: 'paused',
  stopping: 'shutting down',
  crashed: 'crashed (stopped)',
};

export function stateLabel(state: VmState): string {
  return {
    stopped: 'Stopped',
    starting: 'Starting',
    running: 'Running',
    paused: 'Paused',
    stopping: 'Stopping',
    crashed: 'Crashed',
  }[state];
}

export function availability(
  vm: { name: string; state: VmState },
  action: VmAction,
  busy = false,
): Availability {
  const s = vm.state;
  const off = (reason: string): Availability => ({ enabled: false, reason });
  const on: Availability = { enabled: true, reason: '' };
  if (busy) return off(`An action on '${vm.name}' is in progress`);
  const isIdle = s === 'stopped' || s === 'crashed';
  const word = STATE_WORD[s];
  switch (action) {
    case 'start':
      return isIdle ? on : off(`'${vm.name}' is already ${word}`);
    case 'pause':
      return s === 'running' ? on : off(`'${vm.name}' is ${word}: only a running VM can be paused`);
    case 'resume':
      return s === 'paused' ? on : off(`'${vm.name}' is ${word}: only a paused VM can be resumed`);
    case 'stop':
      return s === 'running' || s === 'paused' ? on : off(`'${vm.name}' is ${word}`);
    case 'forceStop':
      return s === 'running' || s === 'paused' || s === 'stopping' || s === 'starting'
        ? on
        : off(`'${vm.name}' is ${word}`);
    case 'reset':
      return s === 'running' || s === 'paused'
        ? on
        : off(`'${vm.name}' is ${word}: only a running or paused VM can be reset`);
    case 'edit':
      // A running VM's configuration can change too: boot-time fields then wait for the next start.
      return s === 'starting' || s === 'stopping'
        ? off(`'${vm.name}' is ${word}: wait a moment to change its configuration`)
        : on;
    case 'delete':
      return isIdle ? on : off(`'${vm.name}' is ${word}: stop it before deleting it`);
    case 'disks':
      return isIdle ? on : off(`'${vm.name}' is ${word}: stop it to change its disks`);
  }
}
