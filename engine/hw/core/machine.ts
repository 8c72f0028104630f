/**
 * The machine base type (hw/core/machine.c) and machine registration (DEFINE_MACHINE): a board is a
 * subclass of "machine" named "<name>-machine"; its class carries the board's description and init.
 * The instance lives at /machine and owns the /machine/unattached, /machine/peripheral and
 * /machine/peripheral-anon containers.
 */
import { errorSetg } from '../../qapi/error.js';
import type { Visitor } from '../../qapi/visitor.js';
import type { MachineInfo, MemorySizeConfiguration } from '../../qapi/generated/qapi-types.js';
import {
  visit_type_MemorySizeConfiguration,
  visit_type_SMPConfiguration,
} from '../../qapi/generated/qapi-visit.js';
import type { QomObject } from '../../qom/object.js';
import {
  QomObject as QomObjectCtor,
  ObjectClass,
  typeRegister,
  objectNew,
  objectUnref,
  objectGetRoot,
  objectPropertyAddChild,
  objectClassGetList,
  objectClassByName,
  objectClassDynamicCast,
  objectClassPropertyAdd,
  objectCheck,
  containerGet,
  TYPE_OBJECT,
} from '../../qom/object.js';
import { objectClassPropertyAddBool, objectClassPropertyAddStr } from '../../qom/object-props.js';
import type { DeviceState } from './qdev-core.js';
import { phaseAdvance, phaseCheck } from './qdev-core.js';
import { sysbusAttachToMachine } from './sysbus.js';

export const TYPE_MACHINE = 'machine';
export const TYPE_MACHINE_SUFFIX = '-machine';
export const machineTypeName = (name: string) => `${name}${TYPE_MACHINE_SUFFIX}`;

export class MachineClass extends ObjectClass {
  name = '';
  desc = '';
  alias: string | null = null;
  isDefault = false;
  deprecationReason: string | null = null;
  maxCpus = 1;
  minCpus = 0;
  defaultCpus = 1;
  defaultCpuType: string | null = null;
  defaultRamSize: bigint = 128n * 1024n * 1024n;
  defaultRamId: string | null = null;
  numaMemSupported = false;
  hasHotpluggableCpus = false;
  noSerial = false;
  noParallel = false;
  noFloppy = false;
  noCdrom = false;
  noSdcard = false;
  /** Board construction (machine_init). */
  init?: (machine: MachineState) => void;
  /** Hotplug handler the machine provides for `dev` (e.g. for CPUs or dynamic sysbus devices). */
  getHotplugHandler?: (machine: QomObject, dev: DeviceState) => QomObject | null;
  /** Veto hotplug of `dev`; throw to explain, or return false. */
  hotplugAllowed?: (machine: QomObject, dev: DeviceState) => boolean;
  /** Sysbus device types that may be created with -device on this board. */
  allowedDynamicSysbusDevices: string[] = [];
}

export class MachineState extends QomObjectCtor {
  ramSize = 0n;
  maxRamSize = 0n;
  ramSlots = 0;
  ramMemdevId: string | null = null;
  /** The RAM memory region, set up by the memory layer. */
  ram: unknown = null;
  kernelFilename: string | null = null;
  kernelCmdline: string | null = null;
  initrdFilename: string | null = null;
  dtb: string | null = null;
  dumpdtb: string | null = null;
  firmware: string | null = null;
  cpuType: string | null = null;
  dumpGuestCore = true;
  memMerge = true;
  usb = false;
  enableGraphics = true;
  suppressVmdesc = false;
  smp = { cpus: 1, sockets: 1, dies: 1, clusters: 1, cores: 1, threads: 1, maxCpus: 1 };
}

export const MACHINE = (o: QomObject) => objectCheck<MachineState>(o, TYPE_MACHINE);
export const MACHINE_GET_CLASS = (o: QomObject) => o.class as MachineClass;

type StrField =
  'kernelFilename' | 'initrdFilename' | 'kernelCmdline' | 'dtb' | 'dumpdtb' | 'firmware' | 'ramMemdevId';
type BoolField = 'dumpGuestCore' | 'memMerge' | 'usb' | 'enableGraphics' | 'suppressVmdesc';

function strProp(k: ObjectClass, name: string, f: StrField, desc: string): void {
  objectClassPropertyAddStr<MachineState>(
    k,
    name,
    (m) => m[f] ?? '',
    (m, v) => {
      m[f] = v;
    },
  ).description = desc;
}

function boolProp(k: ObjectClass, name: string, f: BoolField, desc: string): void {
  objectClassPropertyAddBool<MachineState>(
    k,
    name,
    (m) => m[f],
    (m, v) => {
      m[f] = v;
    },
  ).description = desc;
}

typeRegister<MachineState, MachineClass>({
  name: TYPE_MACHINE,
  parent: TYPE_OBJECT,
  abstract: true,
  instance: MachineState,
  class: MachineClass,
  classInit(k) {
    strProp(k, 'kernel', 'kernelFilename', 'Linux kernel image file');
    strProp(k, 'initrd', 'initrdFilename', 'Linux initial ramdisk file');
    strProp(k, 'append', 'kernelCmdline', 'Linux kernel command line');
    strProp(k, 'dtb', 'dtb', 'Linux kernel device tree file');
    strProp(k, 'dumpdtb', 'dumpdtb', 'Dump current dtb to a file and quit');
    boolProp(k, 'dump-guest-core', 'dumpGuestCore', 'Include guest memory in a core dump');
    boolProp(k, 'mem-merge', 'memMerge', 'Enable/disable memory merge support');
    boolProp(k, 'usb', 'usb', 'Set on/off to enable/disable usb');
    boolProp(k, 'graphics', 'enableGraphics', 'Set on/off to enable/disable graphics emulation');
    strProp(k, 'firmware', 'firmware', 'Firmware image');
    boolProp(k, 'suppress-vmdesc', 'suppressVmdesc', 'Set on to disable self-describing migration');
    strProp(k, 'memory-backend', 'ramMemdevId', 'Set RAM backendValid value is ID of hostmem based backend');
    objectClassPropertyAdd(k, 'memory', 'MemorySizeConfiguration', machineGetMem, machineSetMem).description =
      'Memory size configuration';
    objectClassPropertyAdd(k, 'smp', 'SMPConfiguration', machineGetSmp, machineSetSmp).description =
      'CPU topology';
  },
  instanceInit(m) {
    const mc = MACHINE_GET_CLASS(m);
    m.ramSize = mc.defaultRamSize;
    m.maxRamSize = mc.defaultRamSize;
    m.cpuType = mc.defaultCpuType;
    m.smp.cpus = m.smp.maxCpus = mc.defaultCpus;
    // Containers QEMU's device model expects under /machine.
    containerGet(m, '/peripheral');
    containerGet(m, '/peripheral-anon');
    containerGet(m, '/unattached');
  },
});

type V = Visitor;

function machineGetMem(obj: QomObject, v: V, name: string): void {
  const m = obj as MachineState;
  const config: MemorySizeConfiguration = { size: Number(m.ramSize) };
  if (m.ramSlots) {
    config['max-size'] = Number(m.maxRamSize);
    config.slots = m.ramSlots;
  }
  visit_type_MemorySizeConfiguration(v, name, config);
}

const hex = (x: bigint) => `0x${x.toString(16)}`;

/** machine_set_mem(): -m size=,slots=,maxmem= (QAPI MemorySizeConfiguration). */
function machineSetMem(obj: QomObject, v: V, name: string): void {
  const m = obj as MachineState;
  const mc = MACHINE_GET_CLASS(m);
  const config = visit_type_MemorySizeConfiguration(v, name);
  const mem = {
    size: config.size === undefined ? undefined : BigInt(config.size),
    'max-size': config['max-size'] === undefined ? undefined : BigInt(config['max-size']),
    slots: config.slots === undefined ? undefined : BigInt(config.slots),
  };
  let size = mem['size'] ?? mc.defaultRamSize;
  size = (size + 8191n) & ~8191n;
  const slots = mem['slots'] ?? 0n;
  let maxSize = size;
  if (mem['max-size'] !== undefined) {
    maxSize = mem['max-size'];
    if (maxSize < size) {
      throw errorSetg(
        `invalid value of maxmem: maximum memory size (${hex(maxSize)}) must be at least the initial memory size (${hex(size)})`,
      );
    }
    if (slots && maxSize === size) {
      throw errorSetg(
        `invalid value of maxmem: memory slots were specified but maximum memory size (${hex(maxSize)}) is equal to the initial memory size (${hex(size)})`,
      );
    }
    if (maxSize !== size && !slots) {
      throw errorSetg(
        `invalid value of maxmem: memory slots were not specified but maximum memory size (${hex(maxSize)}) is not equal to the initial memory size (${hex(size)})`,
      );
    }
  } else if (mem['slots'] !== undefined) {
    throw errorSetg('slots specified but no max-size');
  }
  m.ramSize = size;
  m.maxRamSize = maxSize;
  m.ramSlots = Number(slots);
}

function machineGetSmp(obj: QomObject, v: V, name: string): void {
  const s = (obj as MachineState).smp;
  visit_type_SMPConfiguration(v, name, {
    cpus: s.cpus,
    sockets: s.sockets,
    dies: s.dies,
    clusters: s.clusters,
    cores: s.cores,
    threads: s.threads,
    maxcpus: s.maxCpus,
  });
}

/** machine_parse_smp_config() (QEMU 7.2: cores preferred over sockets; no dies/clusters here). */
function machineSetSmp(obj: QomObject, v: V, name: string): void {
  const m = obj as MachineState;
  const mc = MACHINE_GET_CLASS(m);
  const c = visit_type_SMPConfiguration(v, name);
  let { cpus = 0, sockets = 0, cores = 0, threads = 0, maxcpus = 0 } = c;
  const { dies = 0, clusters = 0 } = c;
  if (dies > 1) throw errorSetg("dies not supported by this machine's CPU topology");
  if (clusters > 1) throw errorSetg("clusters not supported by this machine's CPU topology");
  if (cpus === 0 && maxcpus === 0) {
    sockets ||= 1;
    cores ||= 1;
    threads ||= 1;
  } else {
    maxcpus ||= cpus;
    if (cores === 0) {
      sockets ||= 1;
      threads ||= 1;
      cores = Math.floor(maxcpus / (sockets * threads));
    } else if (sockets === 0) {
      threads ||= 1;
      sockets = Math.floor(maxcpus / (cores * threads));
    }
    if (threads === 0) threads = Math.floor(maxcpus / (sockets * cores));
  }
  maxcpus ||= sockets * cores * threads;
  cpus ||= maxcpus;
  const topo = `sockets (${sockets}) * cores (${cores}) * threads (${threads})`;
  if (sockets * cores * threads !== maxcpus) {
    throw errorSetg(
      `Invalid CPU topology: product of the hierarchy must match maxcpus: ${topo} != maxcpus (${maxcpus})`,
    );
  }
  if (maxcpus < cpus) {
    throw errorSetg(
      `Invalid CPU topology: maxcpus must be equal to or greater than smp: ${topo} == maxcpus (${maxcpus}) < smp_cpus (${cpus})`,
    );
  }
  if (cpus < mc.minCpus)
    throw errorSetg(
      `Invalid SMP CPUs ${cpus}. The min CPUs supported by machine '${mc.name}' is ${mc.minCpus}`,
    );
  if (maxcpus > mc.maxCpus)
    throw errorSetg(
      `Invalid SMP CPUs ${maxcpus}. The max CPUs supported by machine '${mc.name}' is ${mc.maxCpus}`,
    );
  m.smp = { cpus, sockets, dies: 1, clusters: 1, cores, threads, maxCpus: maxcpus };
}

export interface MachineDefinition {
  name: string;
  desc: string;
  classInit?(mc: MachineClass): void;
  init?(machine: MachineState): void;
  instance?: new () => MachineState;
  class?: new () => MachineClass;
  interfaces?: string[];
}

/** DEFINE_MACHINE(): register "<name>-machine". */
export function defineMachine(def: MachineDefinition): void {
  typeRegister<MachineState, MachineClass>({
    name: machineTypeName(def.name),
    parent: TYPE_MACHINE,
    instance: def.instance,
    class: def.class,
    interfaces: def.interfaces,
    classInit(mc) {
      mc.name = def.name;
      mc.desc = def.desc;
      if (def.init) mc.init = def.init;
      def.classInit?.(mc);
    },
  });
}

export function machineClassList(): MachineClass[] {
  return objectClassGetList(TYPE_MACHINE, false) as MachineClass[];
}

/** find_machine(): by name or alias. */
export function findMachine(name: string): MachineClass | null {
  return machineClassList().find((mc) => mc.name === name || mc.alias === name) ?? null;
}

export function findDefaultMachine(): MachineClass | null {
  return machineClassList().find((mc) => mc.isDefault) ?? null;
}

/** `-machine help` text. */
export function machineHelp(): string {
  const list = machineClassList().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let out = 'Supported machines are:\n';
  for (const mc of list) {
    if (mc.alias) out += `${mc.alias.padEnd(20)} ${mc.desc} (alias of ${mc.name})\n`;
    out += `${mc.name.padEnd(20)} ${mc.desc}${mc.isDefault ? ' (default)' : ''}${mc.deprecationReason ? ' (deprecated)' : ''}\n`;
  }
  return out;
}

export function qmpQueryMachines(): MachineInfo[] {
  return machineClassList().map((mc) => {
    const info: MachineInfo = {
      name: mc.name,
      'cpu-max': mc.maxCpus,
      'hotpluggable-cpus': mc.hasHotpluggableCpus,
      'numa-mem-supported': mc.numaMemSupported,
      deprecated: !!mc.deprecationReason,
    };
    if (mc.alias) info.alias = mc.alias;
    if (mc.isDefault) info['is-default'] = true;
    if (mc.defaultCpuType) info['default-cpu-type'] = mc.defaultCpuType;
    if (mc.defaultRamId) info['default-ram-id'] = mc.defaultRamId;
    return info;
  });
}

/**
 * qemu_create_machine(): instantiate the board at /machine with main-system-bus at
 * /machine/unattached/sysbus. Machine properties may then be set before machineRunBoardInit.
 */
export function machineCreate(name: string): MachineState {
  const mc = findMachine(name);
  if (!mc) {
    const e = errorSetg('unsupported machine type');
    e.hint = 'Use -machine help to list supported machines\n';
    throw e;
  }
  const m = objectNew<MachineState>(mc.type.name);
  objectPropertyAddChild(objectGetRoot(), 'machine', m);
  objectUnref(m);
  sysbusAttachToMachine();
  phaseAdvance('machine-created');
  return m;
}

/** machine_run_board_init() up to qdev_machine_creation_done(): afterwards devices are hotplugged. */
export function machineRunBoardInit(m: MachineState): void {
  if (!phaseCheck('accel-created')) phaseAdvance('accel-created');
  MACHINE_GET_CLASS(m).init?.(m);
  phaseAdvance('machine-initialized');
}

export function qdevMachineCreationDone(): void {
  phaseAdvance('machine-ready');
}

/** device_type_is_dynamic_sysbus(): may this sysbus type be created with -device on the board? */
export function deviceTypeIsDynamicSysbus(mc: MachineClass, typename: string): boolean {
  const k = objectClassByName(typename);
  return mc.allowedDynamicSysbusDevices.some((t) => !!objectClassDynamicCast(k, t));
}

// The "none" machine (hw/core/null-machine.c).
defineMachine({
  name: 'none',
  desc: 'empty machine',
  classInit(mc) {
    mc.maxCpus = 1;
    mc.defaultRamSize = 0n;
    mc.defaultRamId = 'ram';
    mc.noSerial = mc.noParallel = mc.noFloppy = mc.noCdrom = mc.noSdcard = true;
    // Lets QMP clients exercise device_add/device_del on an otherwise empty machine.
    mc.allowedDynamicSysbusDevices.push('vmstudio-test-bridge');
  },
  init(m) {
    if (m.kernelFilename) {
      throw errorSetg("The -kernel parameter is not supported (use the generic 'loader' device instead).");
    }
  },
});
