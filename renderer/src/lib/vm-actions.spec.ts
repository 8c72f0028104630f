import { describe, expect, it } from 'vitest';
import { availability } from './vm-actions.js';

describe('vm actions', () => {
  it('enables exactly the actions that fit the state and explains the others', () => {
    const running = { name: 'web', state: 'running' as const };
    expect(availability(running, 'pause').enabled).toBe(true);
    expect(availability(running, 'start')).toEqual({ enabled: false, reason: "'web' is already running" });
    expect(availability(running, 'edit').enabled).toBe(true);
    expect(availability({ name: 'web', state: 'stopping' }, 'edit').reason).toBe(
      "'web' is shutting down: wait a moment to change its configuration",
    );
    expect(availability({ name: 'web', state: 'paused' }, 'resume').enabled).toBe(true);
    expect(availability({ name: 'web', state: 'crashed' }, 'start').enabled).toBe(true);
    expect(availability({ name: 'web', state: 'stopped' }, 'reset').reason).toMatch(
      /only a running or paused VM can be reset/,
    );
    expect(availability({ name: 'web', state: 'stopped' }, 'start', true).reason).toBe(
      "An action on 'web' is in progress",
    );
    expect(availability(running, 'disks')).toEqual({
      enabled: false,
      reason: "'web' is running: stop it to change its disks",
    });
    expect(availability({ name: 'web', state: 'crashed' }, 'disks').enabled).toBe(true);
  });
});
