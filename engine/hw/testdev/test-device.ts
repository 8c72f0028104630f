/**
 * "vmstudio-test-device": a hotpluggable, user-creatable device for "vmstudio-test-bus" whose property
 * table has one property of every static kind (bool, bits, 8..64-bit ints, size, size32, string, enum,
 * link, chardev/drive/netdev references), so -device parsing, help texts, property freezing after
 * realize and the hotplug flow can be tested end to end.
 */
import { objectClassPropertyAddUint32Ptr, OBJ_PROP_FLAG_READWRITE } from '../../qom/object-props.js';
import { errorSetg } from '../../qapi/error.js';
import type { QomObject } from '../../qom/object.js';
import { typeRegister, objectCheck } from '../../qom/object.js';
import { DeviceClass, DeviceState, TYPE_DEVICE } from '../../hw/core/qdev-core.js';
import {
  deviceClassSetProps,
  definePropBool,
  definePropBit,
  definePropBit64,
  definePropUint8,
  definePropUint16,
  definePropUint32,
  definePropUint64,
  definePropInt8,
  definePropInt16,
  definePropInt32,
  definePropInt64,
  definePropSize,
  definePropSize32,
  definePropString,
  definePropOnOffAuto,
  definePropLink,
  type OnOffAuto,
} from '../../hw/core/qdev-properties.js';
import { definePropChr, definePropDrive, definePropNetdev } from '../../hw/core/qdev-properties-system.js';
import { TYPE_VMSTUDIO_TEST_BUS } from './test-bridge.js';
import type { VMStateDescription } from '../../migration/vmstate-types.js';

export const TYPE_VMSTUDIO_TEST_DEVICE = 'vmstudio-test-device';

/** Migration description: the runtime register (properties are configuration, not state). */
export const vmstateVmstudioTestDevice: VMStateDescription = {
  name: TYPE_VMSTUDIO_TEST_DEVICE,
  versionId: 1,
  minimumVersionId: 1,
  fields: [{ name: 'doorbell', kind: 'uint32' }],
};

export class TestDevice extends DeviceState {
  flag = false;
  features = 0;
  features64 = 0n;
  u8 = 0;
  u16 = 0;
  u32 = 0;
  u64: number | bigint = 0;
  i8 = 0;
  i16 = 0;
  i32 = 0;
  i64: number | bigint = 0;
  size: number | bigint = 0;
  size32 = 0;
  serial: string | null = null;
  mode: OnOffAuto = 'auto';
  backend: QomObject | null = null;
  chardev: string | null = null;
  drive: string | null = null;
  netdev: string | null = null;
  addr = -1;
  /** A runtime register, like a device's guest-visible state: settable while the device runs. */
  doorbell = 0;
  realizeCount = 0;
  unrealizeCount = 0;
  resetCount = 0;
}

export const TEST_DEVICE = (o: QomObject) => objectCheck<TestDevice>(o, TYPE_VMSTUDIO_TEST_DEVICE);

typeRegister<TestDevice, DeviceClass>({
  name: TYPE_VMSTUDIO_TEST_DEVICE,
  parent: TYPE_DEVICE,
  instance: TestDevice,
  classInit(dc) {
    dc.desc = 'VM Studio hotplug test device';
    dc.categories.add('misc');
    dc.busType = TYPE_VMSTUDIO_TEST_BUS;
    dc.userCreatable = true;
    dc.hotpluggable = true;
    dc.vmsd = vmstateVmstudioTestDevice;
    objectClassPropertyAddUint32Ptr(dc, 'doorbell', 'doorbell', OBJ_PROP_FLAG_READWRITE).description =
      'runtime register (settable while realized)';
    dc.realize = (d) => {
      const dev = d as TestDevice;
      if (dev.serial === 'fail-realize') throw errorSetg('vmstudio-test-device: realize failure requested');
      dev.realizeCount++;
    };
    dc.unrealize = (d) => void (d as TestDevice).unrealizeCount++;
    dc.reset = (d) => void (d as TestDevice).resetCount++;
    deviceClassSetProps(dc, [
      definePropBool('flag', 'flag', false),
      definePropBit('feature-a', 'features', 0, true),
      definePropBit64('feature-b', 'features64', 40, false),
      definePropUint8('u8', 'u8', 8),
      definePropUint16('u16', 'u16', 16),
      definePropUint32('u32', 'u32', 32),
      definePropUint64('u64', 'u64', 0xffffffffffffffffn),
      definePropInt8('i8', 'i8', -8),
      definePropInt16('i16', 'i16', -16),
      definePropInt32('i32', 'i32', -32),
      definePropInt64('i64', 'i64', -64),
      definePropSize('size', 'size', 4096),
      definePropSize32('size32', 'size32', 512),
      definePropString('serial', 'serial'),
      definePropOnOffAuto('mode', 'mode', 'auto'),
      definePropLink('backend', 'backend', 'rng-backend'),
      definePropChr('chardev', 'chardev'),
      definePropDrive('drive', 'drive'),
      definePropNetdev('netdev', 'netdev'),
      definePropInt32('addr', 'addr', -1),
    ]);
  },
});
