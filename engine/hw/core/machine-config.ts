/**
 * The machine's "memory" and "smp" properties (QEMU's hw/core/machine.c machine_get/set_mem and
 * hw/core/machine-smp.c). -m and -smp arrive here as keyval dictionaries, QMP clients read them with
 * qom-get, and both go through the generated visitors for MemorySizeConfiguration/SMPConfiguration,
 * so the command line and QMP accept and report the same things.
 */
import { errorSetg } from '../../qapi/error.js';
import type { MemorySizeConfiguration, SMPConfiguration } from '../../qapi/generated/qapi-types.js';
import {
  visit_type_MemorySizeConfiguration,
  visit_type_SMPConfiguration,
} from '../../qapi/generated/qapi-visit.js';
import type { Visitor } from '../../qapi/visitor.js';
import { objectClassPropertyAdd, type ObjectClass, type QomObject } from '../../qom/object.js';
import type { MachineClass, MachineState } from './machine.js';

/** Which topology levels a board supports beyond sockets/cores/threads (MachineClass::smp_props). */
export interface SmpProps {
  diesSupported: boolean;
  clustersSupported: boolean;
}

const RAM_ALIGN = 8192n;

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/** machine_set_mem(): validate and apply a MemorySizeConfiguration. */
export function machineSetMem(ms: MachineState, mc: MachineClass, config: MemorySizeConfiguration): void {
  let size = config.size !== undefined ? BigInt(config.size) : mc.defaultRamSize;
  size = ((size + RAM_ALIGN - 1n) / RAM_ALIGN) * RAM_ALIGN;
  let maxSize = size;
  let slots = 0;
  if (config['max-size'] !== undefined) {
    maxSize = BigInt(config['max-size']);
    if (maxSize < size) {
      throw errorSetg(
        `invalid value of maxmem: maximum memory size (${hex(maxSize)}) must be at least the initial memory size (${hex(size)})`,
      );
    }
    if (config.slots !== undefined && config.slots === 0) {
      throw errorSetg('maxmem was specified, but no hotplug slots were specified');
    }
    slots = config.slots ?? 0;
  } else if (config.slots !== undefined) {
    throw errorSetg('slots specified but no max-size');
  }
  ms.ramSize = size;
  ms.maxRamSize = maxSize;
  ms.ramSlots = slots;
}

/** machine_get_mem(): max-size and slots are reported only when hotplug slots exist. */
export function machineGetMem(ms: MachineState): MemorySizeConfiguration {
  const out: MemorySizeConfiguration = { size: Number(ms.ramSize) };
  if (ms.ramSlots) {
    out['max-size'] = Number(ms.maxRamSize);
    out.slots = ms.ramSlots;
  }
  return out;
}

function hierarchyToString(s: MachineState['smp'], props: SmpProps): string {
  let out = `sockets (${s.sockets})`;
  if (props.diesSupported) out += ` * dies (${s.dies})`;
  if (props.clustersSupported) out += ` * clusters (${s.clusters})`;
  return `${out} * cores (${s.cores}) * threads (${s.threads})`;
}

/**
 * machine_parse_smp_config(): fill in omitted topology values (preferring cores over sockets, as
 * since QEMU 6.2) and check the result. Returns warnings to print.
 */
export function machineParseSmpConfig(
  ms: MachineState,
  mc: MachineClass,
  props: SmpProps,
  config: SMPConfiguration,
): string[] {
  const warnings: string[] = [];
  const given = (k: keyof SMPConfiguration) => config[k] !== undefined;
  if ((Object.keys(config) as Array<keyof SMPConfiguration>).some((k) => given(k) && config[k] === 0)) {
    warnings.push(
      'Deprecated CPU topology (considered invalid): CPU topology parameters must be greater than zero',
    );
  }
  let cpus = config.cpus ?? 0;
  let sockets = config.sockets ?? 0;
  let dies = config.dies ?? 0;
  let clusters = config.clusters ?? 0;
  let cores = config.cores ?? 0;
  let threads = config.threads ?? 0;
  let maxcpus = config.maxcpus ?? 0;
  if (!props.diesSupported && dies > 1) throw errorSetg("dies not supported by this machine's CPU topology");
  if (!props.clustersSupported && clusters > 1) {
    throw errorSetg("clusters not supported by this machine's CPU topology");
  }
  dies = dies > 0 ? dies : 1;
  clusters = clusters > 0 ? clusters : 1;
  const div = (a: number, b: number) => (b === 0 ? 0 : Math.floor(a / b));
  if (cpus === 0 && maxcpus === 0) {
    sockets = sockets > 0 ? sockets : 1;
    cores = cores > 0 ? cores : 1;
    threads = threads > 0 ? threads : 1;
  } else {
    maxcpus = maxcpus > 0 ? maxcpus : cpus;
    if (cores === 0) {
      sockets = sockets > 0 ? sockets : 1;
      threads = threads > 0 ? threads : 1;
      cores = div(maxcpus, sockets * dies * clusters * threads);
    } else if (sockets === 0) {
      threads = threads > 0 ? threads : 1;
      sockets = div(maxcpus, dies * clusters * cores * threads);
    }
    if (threads === 0) threads = div(maxcpus, sockets * dies * clusters * cores);
  }
  maxcpus = maxcpus > 0 ? maxcpus : sockets * dies * clusters * cores * threads;
  cpus = cpus > 0 ? cpus : maxcpus;
  const smp = { cpus, sockets, dies, clusters, cores, threads, maxCpus: maxcpus };
  const topo = hierarchyToString(smp, props);
  if (sockets * dies * clusters * cores * threads !== maxcpus) {
    throw errorSetg(
      `Invalid CPU topology: product of the hierarchy must match maxcpus: ${topo} != maxcpus (${maxcpus})`,
    );
  }
  if (maxcpus < cpus) {
    throw errorSetg(
      `Invalid CPU topology: maxcpus must be equal to or greater than smp: ${topo} == maxcpus (${maxcpus}) < smp_cpus (${cpus})`,
    );
  }
  if (cpus < mc.minCpus) {
    throw errorSetg(
      `Invalid SMP CPUs ${cpus}. The min CPUs supported by machine '${mc.name}' is ${mc.minCpus}`,
    );
  }
  if (maxcpus > mc.maxCpus) {
    throw errorSetg(
      `Invalid SMP CPUs ${maxcpus}. The max CPUs supported by machine '${mc.name}' is ${mc.maxCpus}`,
    );
  }
  ms.smp = smp;
  return warnings;
}

/** machine_get_smp(): every level, as QEMU reports it. */
export function machineGetSmp(ms: MachineState): SMPConfiguration {
  const s = ms.smp;
  return {
    cpus: s.cpus,
    sockets: s.sockets,
    dies: s.dies,
    clusters: s.clusters,
    cores: s.cores,
    threads: s.threads,
    maxcpus: s.maxCpus,
  };
}

/** Where machine_parse_smp_config warnings go (the command line prints them). */
let smpWarn: (msg: string) => void = (msg) => process.stderr.write(`vmstudio-engine: warning: ${msg}\n`);
export function setSmpWarningHandler(fn: (msg: string) => void): void {
  smpWarn = fn;
}

/** Register "memory" and "smp" on the machine base class (called from its class_init). */
export function machineClassAddConfigProps(
  klass: ObjectClass,
  smpProps: (mc: MachineClass) => SmpProps,
): void {
  const mem = objectClassPropertyAdd(
    klass,
    'memory',
    'MemorySizeConfiguration',
    (obj: QomObject, v: Visitor, name: string) => {
      visit_type_MemorySizeConfiguration(v, name, machineGetMem(obj as MachineState));
    },
    (obj: QomObject, v: Visitor, name: string) => {
      const config = visit_type_MemorySizeConfiguration(v, name);
      machineSetMem(obj as MachineState, obj.class as MachineClass, config);
    },
  );
  mem.description = 'Memory size configuration';
  const smp = objectClassPropertyAdd(
    klass,
    'smp',
    'SMPConfiguration',
    (obj: QomObject, v: Visitor, name: string) => {
      visit_type_SMPConfiguration(v, name, machineGetSmp(obj as MachineState));
    },
    (obj: QomObject, v: Visitor, name: string) => {
      const config = visit_type_SMPConfiguration(v, name);
      const mc = obj.class as MachineClass;
      for (const w of machineParseSmpConfig(obj as MachineState, mc, smpProps(mc), config)) smpWarn(w);
    },
  );
  smp.description = 'CPU topology';
}
