import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir, parseAppArgs, UsageError } from './args.js';

describe('parseAppArgs', () => {
  it('reads --web, --port and --data-dir in both spellings', () => {
    expect(parseAppArgs(['--web', '--port', '8080', '--data-dir', '/tmp/x'], {})).toEqual({
      web: true,
      port: 8080,
      dataDir: '/tmp/x',
      help: false,
      defaultVm: true,
    });
    expect(parseAppArgs(['--port=0', '--data-dir=rel'], {})).toMatchObject({
      web: false,
      port: 0,
      dataDir: path.resolve('rel'),
    });
  });

  it('turns the default VM off with --no-default-vm or VMSTUDIO_NO_DEFAULT_VM', () => {
    expect(parseAppArgs([], {}).defaultVm).toBe(true);
    expect(parseAppArgs(['--no-default-vm'], {}).defaultVm).toBe(false);
    expect(parseAppArgs([], { VMSTUDIO_NO_DEFAULT_VM: '1' }).defaultVm).toBe(false);
    expect(parseAppArgs([], { VMSTUDIO_NO_DEFAULT_VM: '0' }).defaultVm).toBe(true);
  });

  it('takes the data folder from VMSTUDIO_DATA_DIR when no option is given, the option winning', () => {
    expect(parseAppArgs([], { VMSTUDIO_DATA_DIR: '/env/dir' }).dataDir).toBe('/env/dir');
    expect(parseAppArgs(['--data-dir', '/opt'], { VMSTUDIO_DATA_DIR: '/env/dir' }).dataDir).toBe('/opt');
  });

  it('refuses bad ports, missing values and unknown options', () => {
    expect(() => parseAppArgs(['--port', 'abc'], {})).toThrow(
      "vmstudio: --port: 'abc' is not a valid port number",
    );
    expect(() => parseAppArgs(['--port', '70000'], {})).toThrow(UsageError);
    expect(() => parseAppArgs(['--data-dir'], {})).toThrow(
      "vmstudio: option '--data-dir' requires an argument",
    );
    expect(() => parseAppArgs(['--frobnicate'], {})).toThrow("vmstudio: unknown option '--frobnicate'");
  });
});

describe('defaultDataDir', () => {
  it('follows each platform convention', () => {
    expect(defaultDataDir({}, 'linux', '/home/u')).toBe('/home/u/.config/VM Studio');
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/cfg' }, 'linux', '/home/u')).toBe('/cfg/VM Studio');
    expect(defaultDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/VM Studio');
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u')).toBe(
      'C:\\Users\\u\\AppData\\Roaming\\VM Studio',
    );
  });
});
