import { describe, expect, it } from 'vitest';
import type { DevicePropertySpec, DeviceTypeInfo } from '../../../main/api/contract.js';
import {
  defaultLabel,
  NEW_CHARDEV,
  NEW_DISK,
  requestNewChardev,
  requestNewDisk,
  fieldError,
  filterDevices,
  initialForm,
  parseSize,
  requestProperties,
  suggestId,
  validateForm,
} from './device-form.js';

const spec = (
  name: string,
  type: string,
  kind: DevicePropertySpec['kind'],
  extra: Partial<DevicePropertySpec> = {},
) => ({ name, type, kind, description: null, ...extra }) as DevicePropertySpec;

// As main resolves them from the test device's device-list-properties.
const SPECS: DevicePropertySpec[] = [
  spec('flag', 'bool', 'bool', { defaultValue: false }),
  spec('feature-a', 'bool', 'bool', { defaultValue: true, description: 'on/off' }),
  spec('u8', 'uint8', 'int', { defaultValue: 8, min: '0', max: '255' }),
  spec('i8', 'int8', 'int', { defaultValue: -8, min: '-128', max: '127' }),
  spec('u64', 'uint64', 'int', {
    defaultValue: '18446744073709551615',
    min: '0',
    max: '18446744073709551615',
  }),
  spec('size', 'size', 'size', { defaultValue: 4096 }),
  spec('serial', 'str', 'str'),
  spec('mode', 'OnOffAuto', 'enum', { defaultValue: 'auto', enumValues: ['on', 'off', 'auto'] }),
  spec('backend', 'link<rng-backend>', 'link', {
    linkType: 'rng-backend',
    linkCandidates: ['/objects/rng0'],
  }),
];
const by = new Map(SPECS.map((s) => [s.name, s]));

describe('device form: validation', () => {
  it('checks integers against the type’s range, 64-bit exact', () => {
    expect(fieldError(by.get('u8')!, '255')).toBeNull();
    expect(fieldError(by.get('u8')!, '0x10')).toBeNull();
    expect(fieldError(by.get('u8')!, '256')).toBe('u8 must be between 0 and 255 (uint8).');
    expect(fieldError(by.get('u8')!, '-1')).toBe('u8 must be between 0 and 255 (uint8).');
    expect(fieldError(by.get('u8')!, '1.5')).toBe('u8 must be a whole number.');
    expect(fieldError(by.get('i8')!, '-128')).toBeNull();
    expect(fieldError(by.get('i8')!, '-129')).toBe('i8 must be between -128 and 127 (int8).');
    expect(fieldError(by.get('u64')!, '18446744073709551615')).toBeNull();
    expect(fieldError(by.get('u64')!, '18446744073709551616')).toMatch(/between 0 and 18446744073709551615/);
  });

  it('accepts sizes with QEMU’s suffixes', () => {
    expect(parseSize('4096')).toBe(4096n);
    expect(parseSize('64K')).toBe(65536n);
    expect(parseSize('1.5M')).toBe(1572864n);
    expect(parseSize('2g')).toBe(2147483648n);
    expect(parseSize('1.5')).toBeNull();
    expect(parseSize('12 apples')).toBeNull();
    expect(fieldError(by.get('size')!, 'lots')).toBe('size must be a size such as 4096, 64K or 1.5M.');
    expect(fieldError(by.get('size')!, '16E')).toBe('size is too large (at most 16 EiB).');
  });

  it('checks enum values and link targets; empty means the default', () => {
    expect(fieldError(by.get('mode')!, 'on')).toBeNull();
    expect(fieldError(by.get('mode')!, 'maybe')).toBe('mode must be one of on, off, auto.');
    expect(fieldError(by.get('backend')!, 'rng9')).toBe('backend must name an existing rng-backend object.');
    expect(fieldError(by.get('backend')!, '/objects/rng0')).toBeNull();
    for (const s of SPECS) expect(fieldError(s, '')).toBeNull();
  });

  it('checks the id: well formed, unused, and required to keep the device', () => {
    const f = initialForm('vmstudio-test-device', SPECS, 'dev0');
    expect(validateForm(f, SPECS, new Set())).toEqual({});
    expect(validateForm({ ...f, id: '0dev' }, SPECS, new Set()).id).toMatch(/^An ID starts with a letter/);
    expect(validateForm(f, SPECS, new Set(['dev0'])).id).toBe("A device with the ID 'dev0' already exists.");
    expect(validateForm({ ...f, id: '', keep: true }, SPECS, new Set()).id).toBe(
      'Give the device an ID to keep it after restart.',
    );
    const bad = { ...f, values: { ...f.values, u8: '300', mode: 'x' } };
    expect(Object.keys(validateForm(bad, SPECS, new Set()))).toEqual(['u8', 'mode']);
  });
});

describe('device form: request', () => {
  it('starts from the defaults and sends only what changed', () => {
    const f = initialForm('vmstudio-test-device', SPECS, 'dev0');
    expect(f.values.flag).toBe(false);
    expect(f.values['feature-a']).toBe(true);
    expect(f.values.u8).toBe('');
    expect(requestProperties(f, SPECS)).toEqual({});
    f.values.flag = true;
    f.values['feature-a'] = true;
    f.values.u8 = ' 42 ';
    f.values.mode = 'auto';
    f.values.serial = 'abc';
    expect(requestProperties(f, SPECS)).toEqual({ flag: true, u8: '42', serial: 'abc' });
  });
});

describe('device form: default labels', () => {
  it("shows QEMU's all-ones 'not set' marks as such, every other default as its value", () => {
    const nr = spec('nr', 'uint32', 'int', { defaultValue: 4294967295, min: '0', max: '4294967295' });
    const boot = spec('bootindex', 'int32', 'int', {
      defaultValue: -1,
      min: '-2147483648',
      max: '2147483647',
    });
    expect(defaultLabel(nr)).toBe('not set');
    expect(defaultLabel(boot)).toBe('not set');
    expect(defaultLabel(by.get('u64')!)).toBe('not set');
    expect(defaultLabel(by.get('u8')!)).toBe('8');
    expect(defaultLabel(by.get('i8')!)).toBe('-8');
    expect(defaultLabel(by.get('size')!)).toBe('4096');
    expect(defaultLabel(by.get('serial')!)).toBeNull();
    // The mark is only a label: typing the number itself still means "the default", so nothing is sent.
    const f = initialForm('virtserialport', [nr], 'port0');
    f.values.nr = '4294967295';
    expect(requestProperties(f, [nr])).toEqual({});
  });
});

describe('device form: block backends', () => {
  const drive = spec('drive', 'str', 'backend', {
    description: 'Node name or ID of a block device to use as a backend',
    backend: 'block',
    backendCandidates: [{ value: 'disk1', label: 'disk1 (qcow2, /v/disk1.qcow2)' }],
  });
  const specs = [drive, spec('serial', 'str', 'str')];

  it('sends an existing block device as the property, a new image as newDisk with its size', () => {
    const f = initialForm('scsi-hd', specs, 'hd0');
    f.values.drive = 'disk1';
    expect(requestProperties(f, specs)).toEqual({ drive: 'disk1' });
    expect(requestNewDisk(f, specs)).toBeUndefined();
    f.values.drive = NEW_DISK;
    f.newDiskMiB = 64;
    expect(requestProperties(f, specs)).toEqual({});
    expect(requestNewDisk(f, specs)).toEqual({ property: 'drive', sizeMiB: 64 });
    expect(validateForm(f, specs, new Set())).toEqual({});
  });

  it("checks the new image's size", () => {
    const f = initialForm('scsi-hd', specs, 'hd0');
    f.values.drive = NEW_DISK;
    for (const bad of [0, 1.5, 3 * 1024 * 1024])
      expect(validateForm({ ...f, newDiskMiB: bad }, specs, new Set()).drive).toMatch(/whole number of MiB/);
  });
});

describe('device form: chardev backends', () => {
  const chardev = spec('chardev', 'str', 'backend', {
    description: 'ID of a chardev to use as a backend',
    backend: 'chardev',
    backendCandidates: [{ value: 'channel0', label: 'channel0 (unix:/v/channel0.sock,server=on)' }],
  });
  const specs = [chardev, spec('name', 'str', 'str')];

  it('sends an existing chardev as the property, a new host socket as newChardev', () => {
    const f = initialForm('virtserialport', specs, 'port0');
    f.values.chardev = 'channel0';
    expect(requestProperties(f, specs)).toEqual({ chardev: 'channel0' });
    expect(requestNewChardev(f, specs)).toBeUndefined();
    f.values.chardev = NEW_CHARDEV;
    f.values.name = 'org.example.agent';
    expect(requestProperties(f, specs)).toEqual({ name: 'org.example.agent' });
    expect(requestNewChardev(f, specs)).toEqual({ property: 'chardev' });
    // A new image is only for block backends.
    expect(requestNewDisk(f, specs)).toBeUndefined();
    expect(validateForm(f, specs, new Set())).toEqual({});
  });
});

describe('device list', () => {
  const d = (type: string, available: boolean, description: string | null = null): DeviceTypeInfo => ({
    type,
    description,
    busType: null,
    buses: [],
    available,
    reason: available ? null : `${type} is not hotpluggable`,
  });
  const all = [
    d('vmstudio-test-bridge', false),
    d('virtio-rng-device', true, 'entropy source'),
    d('vmstudio-test-device', true),
  ];

  it('splits available from unavailable and searches names and descriptions', () => {
    const r = filterDevices(all, '');
    expect(r.available.map((x) => x.type)).toEqual(['virtio-rng-device', 'vmstudio-test-device']);
    expect(r.unavailable.map((x) => x.type)).toEqual(['vmstudio-test-bridge']);
    expect(filterDevices(all, 'ENTROPY').available.map((x) => x.type)).toEqual(['virtio-rng-device']);
    expect(filterDevices(all, 'test').unavailable.map((x) => x.type)).toEqual(['vmstudio-test-bridge']);
  });

  it('suggests a short unused id', () => {
    expect(suggestId('vmstudio-test-device', new Set())).toBe('dev0');
    expect(suggestId('virtio-rng-device', new Set(['rng0']))).toBe('rng1');
  });
});
