import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ROOT, guestCacheRoot, isPackagedApp } from './paths.js';

describe('guestCacheRoot', () => {
  const data = path.join(path.sep, 'home', 'u', '.config', 'VM Studio');

  it('uses the data folder in an installed app, whose own folder is read-only or replaced on update', () => {
    for (const root of [
      '/tmp/.mount_VM StudioXyz/resources/app.asar',
      '/opt/VM Studio/resources/app.asar',
      '/Applications/VM Studio.app/Contents/Resources/app.asar',
      'C:\\Users\\u\\AppData\\Local\\Programs\\VM Studio\\resources\\app.asar',
    ]) {
      expect(isPackagedApp(root)).toBe(true);
      expect(guestCacheRoot(data, {}, root)).toBe(path.join(data, 'cache'));
    }
  });

  it("uses the checkout's .cache when run from sources, so the builder's CLI, CI and the app share builds", () => {
    expect(isPackagedApp(APP_ROOT)).toBe(false);
    expect(guestCacheRoot(data, {}, '/src/vm-studio')).toBe(path.join('/src/vm-studio', '.cache'));
    expect(guestCacheRoot(data, {})).toBe(path.join(APP_ROOT, '.cache'));
  });

  it('lets VMSTUDIO_CACHE_DIR win everywhere', () => {
    const env = { VMSTUDIO_CACHE_DIR: '/var/cache/vms' };
    expect(guestCacheRoot(data, env, '/opt/VM Studio/resources/app.asar')).toBe(
      path.resolve('/var/cache/vms'),
    );
    expect(guestCacheRoot(data, env, '/src/vm-studio')).toBe(path.resolve('/var/cache/vms'));
  });
});
