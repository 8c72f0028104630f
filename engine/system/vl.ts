/**
 * The engine's startup sequence (QEMU's softmmu/vl.c qemu_init): parse the command line, print help if
 * asked, create the machine, backends, monitors and devices in QEMU's order, then start (or stay
 * in prelaunch with -S).
 *
 * Errors carry the command-line location they belong to, as QEMU's error_report() does with its
 * location stack: option-time errors ("-m foo: ...") and errors while creating the object an option
 * described ("-device foo: ...") name the option; machine property errors do not.
 */
import { writeFileSync } from 'node:fs';
import { QapiError } from '../qapi/error.js';
import { QObjectInputVisitor } from '../qapi/visitors/qobject-input-visitor.js';
import { visit_type_ObjectOptions } from '../qapi/generated/qapi-visit.js';
import { parseJson } from '../qobject/json-parser.js';
import { isQDict, qdict, type QDict } from '../qobject/qobject.js';
import { keyvalParse, keyvalParseInto } from '../util/keyval.js';
import { QemuOptsRegistry, type QemuOpts } from '../util/qemu-option.js';
import { parseChardevOpts, type ChardevOpts, chardevHelpText } from '../chardev/char-opts.js';
import { qemuChrNewFromOpts, qemuChrFind } from '../chardev/char-registry.js';
import { chrParseCompat } from '../chardev/char-opts.js';
import type { Chardev } from '../chardev/char.js';
import { setSerialHd } from '../hw/char/serial-hds.js';
import { DumpDtbExit } from './device-tree.js';
import { monitorInit, monitorParse, parseMonOption, type MonitorOptions } from '../monitor/monitor-opts.js';
import { userCreatableAddDict, userCreatableHelp } from '../qom/object-interfaces.js';
import { objectSetPropertiesFromKeyval } from '../qom/object-interfaces.js';
import { qdevDeviceAdd, qdevDeviceHelp } from '../hw/core/qdev-monitor.js';
import { driveDeviceOptions } from '../hw/virtio/virtio-blk-drive.js';
import { qdevPropRegisterGlobal } from '../hw/core/qdev-core.js';
import {
  findDefaultMachine,
  findMachine,
  machineCreate,
  machineHelp,
  machineRunBoardInit,
  qdevMachineCreationDone,
  MACHINE_GET_CLASS,
  type MachineState,
} from '../hw/core/machine.js';
import { setAutostart, vmStart, runstateSet } from './runstate.js';
import { splitArgv, usageText, type ParsedOption } from './qemu-options.js';
import { versionText } from '../version.js';
import { setGuestIdentity } from './guest-identity.js';
import { migrationSetIncoming } from '../migration/migration.js';
import { setSnapshotStoreDir } from '../migration/snapshot-store.js';
import { blockdevParseCli, driveAddDefaults, driveNew, qmpBlockdevAdd } from '../block/blockdev.js';
import type { BlockdevOptions } from '../qapi/generated/qapi-types.js';

export const PROG = 'vmstudio-engine';

/** An error with the command-line location it is reported at (QEMU's Location). */
export class VlError extends Error {
  constructor(
    readonly location: string | null,
    message: string,
    readonly hint?: string,
    /** Messages QEMU reports at the same location before this one (e.g. the cause of a parse error). */
    readonly before: readonly string[] = [],
  ) {
    super(message);
  }
}

/** Where output goes, so tests can run qemuInit in-process. */
export interface VlIo {
  out(text: string): void;
  err(text: string): void;
}

export type VlResult = { kind: 'exit'; code: number } | { kind: 'running'; machine: MachineState };

/** QemuOpts lists (vm_config_groups) the option handlers below use. */
function optionRegistry(): QemuOptsRegistry {
  const r = new QemuOptsRegistry();
  r.register({
    name: 'memory',
    impliedOptName: 'size',
    mergeLists: true,
    desc: [
      { name: 'size', type: 'size' },
      { name: 'slots', type: 'number' },
      { name: 'maxmem', type: 'size' },
    ],
  });
  r.register({
    name: 'name',
    impliedOptName: 'guest',
    mergeLists: true,
    desc: [
      { name: 'guest', type: 'string', help: 'Sets the name of the guest.' },
      { name: 'process', type: 'string', help: 'Sets the name of the QEMU process.' },
      { name: 'debug-threads', type: 'bool', help: 'When enabled, name the individual threads.' },
    ],
  });
  r.register({ name: 'device', impliedOptName: 'driver', desc: [] });
  return r;
}

/** Everything the option loop gathers before the machine exists. */
interface VlConfig {
  machineDict: QDict;
  machineLoc: string | null;
  memoryLoc: string | null;
  smpDicts: Array<{ loc: string; dict: QDict }>;
  objects: Array<{ loc: string; dict: QDict; json: boolean }>;
  chardevs: Array<{ loc: string; opts: ChardevOpts }>;
  monitors: Array<{ loc: string; opts: MonitorOptions }>;
  devices: Array<{ loc: string; dict: QDict; json: boolean }>;
  /** -blockdev (parsed) and -drive (raw) in command-line order, opened by configureBlockdev(). */
  blockdevs: Array<{ loc: string; opts: BlockdevOptions }>;
  drives: Array<{ loc: string; arg: string }>;
  snapshot: boolean;
  deviceHelp: QDict | null;
  autostart: boolean;
  nographic: boolean;
  /** -serial arguments in order (serial0, serial1, ...). */
  serials: Array<{ loc: string; dev: string }>;
  nodefaults: boolean;
  pidfile: string | null;
  incoming: string | null;
  uuid: string | null;
  nameOpts: QemuOpts | null;
  opts: QemuOptsRegistry;
}

/** Objects that need the machine/accelerator first (vl.c object_create_early()). */
function objectCreateEarly(type: string): boolean {
  return !type.startsWith('rng-') && !type.startsWith('memory-backend-');
}

function loc(o: ParsedOption): string {
  return o.arg === undefined ? o.written : `${o.written} ${o.arg}`;
}

/** Run `fn`, re-throwing any QapiError with the given location. */
function at<T>(location: string | null, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw locate(location, e);
  }
}

function locate(location: string | null, e: unknown): unknown {
  if (!(e instanceof QapiError)) return e;
  const warnings = (e as { warnings?: string[] }).warnings ?? [];
  return new VlError(
    location,
    e.message,
    e.hint,
    warnings.map((w) => `warning: ${w}`),
  );
}

async function atAsync<T>(location: string | null, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw locate(location, e);
  }
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The option loop: validate each option as QEMU does when it meets it; act on -h/-version at once. */
function parseOptions(argv: readonly string[], io: VlIo): VlConfig | { exit: number } {
  let parsed: ParsedOption[];
  try {
    parsed = splitArgv(argv);
  } catch (e) {
    const c = e as { location: string; message: string };
    throw new VlError(c.location, c.message);
  }
  const cfg: VlConfig = {
    machineDict: qdict(),
    machineLoc: null,
    memoryLoc: null,
    smpDicts: [],
    objects: [],
    chardevs: [],
    monitors: [],
    devices: [],
    blockdevs: [],
    drives: [],
    snapshot: false,
    deviceHelp: null,
    autostart: true,
    nographic: false,
    serials: [],
    nodefaults: false,
    pidfile: null,
    incoming: null,
    uuid: null,
    nameOpts: null,
    opts: optionRegistry(),
  };
  const warn = (l: string, warnings: readonly string[]) => {
    for (const w of warnings) io.err(`${PROG}: ${l}: warning: ${w}\n`);
  };
  for (const o of parsed) {
    const l = loc(o);
    const arg = o.arg ?? '';
    switch (o.def.name) {
      case 'h':
        io.out(usageText(PROG));
        return { exit: 0 };
      case 'version':
        io.out(versionText());
        return { exit: 0 };
      case 'machine': {
        const { help } = at(l, () => keyvalParseInto(cfg.machineDict, arg, 'type'));
        if (help) cfg.machineDict['type'] = 'help';
        cfg.machineLoc = l;
        break;
      }
      case 'accel': {
        const { dict } = at(l, () => keyvalParse(arg, 'accel'));
        if (dict['accel'] !== 'tcg') {
          throw new VlError(l, `invalid accelerator ${String(dict['accel'])}`);
        }
        break;
      }
      case 'cpu':
        cfg.machineDict['x-cpu-model'] = arg;
        break;
      case 'm': {
        const r = at(l, () => cfg.opts.parse('memory', arg));
        warn(l, r.warnings);
        cfg.memoryLoc = l;
        break;
      }
      case 'smp':
        cfg.smpDicts.push({ loc: l, dict: at(l, () => keyvalParse(arg, 'cpus', false).dict) });
        break;
      case 'name': {
        const r = at(l, () => cfg.opts.parse('name', arg));
        warn(l, r.warnings);
        cfg.nameOpts = r.opts;
        break;
      }
      case 'uuid':
        if (!UUID_RE.test(arg)) throw new VlError(l, 'Fail to parse UUID string. Wrong format.');
        cfg.uuid = arg.toLowerCase();
        break;
      case 'device': {
        if (arg.startsWith('{')) {
          const dict = at(l, () => parseJson(arg));
          if (!isQDict(dict)) throw new VlError(l, 'JSON argument must be an object');
          cfg.devices.push({ loc: l, dict, json: true });
          break;
        }
        const r = at(l, () => cfg.opts.parse('device', arg));
        warn(l, r.warnings);
        const dict = r.opts.toQDict();
        if (r.help || dict['driver'] === 'help' || dict['driver'] === '?') {
          if (r.help) dict['help'] = 'on';
          cfg.deviceHelp = dict;
          break;
        }
        cfg.devices.push({ loc: l, dict, json: false });
        break;
      }
      case 'blockdev':
        cfg.blockdevs.push({ loc: l, opts: at(l, () => blockdevParseCli(arg)) });
        break;
      case 'drive':
        cfg.drives.push({ loc: l, arg });
        break;
      case 'snapshot':
        cfg.snapshot = true;
        break;
      case 'global': {
        at(l, () => {
          const m = /^([^.=,]+)\.([^=]+)=(.*)$/s.exec(arg);
          if (m) {
            qdevPropRegisterGlobal({ driver: m[1]!, property: m[2]!, value: m[3]! });
            return;
          }
          const { dict } = keyvalParse(arg, null, false);
          const driver = dict['driver'];
          const property = dict['property'];
          const value = dict['value'];
          if (typeof driver !== 'string' || typeof property !== 'string' || typeof value !== 'string') {
            throw new QapiError(`Invalid global property: ${arg}`);
          }
          qdevPropRegisterGlobal({ driver, property, value });
        });
        break;
      }
      case 'object': {
        if (arg.startsWith('{')) {
          const dict = at(l, () => parseJson(arg));
          if (!isQDict(dict)) throw new VlError(l, 'JSON argument must be an object');
          at(l, () => visit_type_ObjectOptions(new QObjectInputVisitor(dict), null));
          cfg.objects.push({ loc: l, dict, json: true });
          break;
        }
        const { dict, help } = at(l, () => keyvalParse(arg, 'qom-type'));
        const helpText = userCreatableHelp(dict, help);
        if (helpText !== null) {
          io.out(helpText);
          return { exit: 0 };
        }
        at(l, () => visit_type_ObjectOptions(new QObjectInputVisitor(dict, { keyval: true }), null));
        if (cfg.objects.some((x) => x.dict['id'] === dict['id'])) {
          throw new VlError(l, `duplicate object id '${String(dict['id'])}'`);
        }
        cfg.objects.push({ loc: l, dict, json: false });
        break;
      }
      case 'chardev': {
        const opts = at(l, () => parseChardevOpts(arg, 'backend', true));
        if (opts.help || opts.opts.get('backend') === 'help') {
          io.out(chardevHelpText());
          return { exit: 0 };
        }
        cfg.chardevs.push({ loc: l, opts });
        break;
      }
      case 'qmp':
      case 'qmp-pretty': {
        let r: ReturnType<typeof monitorParse>;
        try {
          r = monitorParse(arg, 'control', o.def.name === 'qmp-pretty');
        } catch (e) {
          if (e instanceof QapiError) throw new VlError(l, `parse error: ${arg}`, undefined, [e.message]);
          throw e;
        }
        if (r.chardev) cfg.chardevs.push({ loc: l, opts: r.chardev });
        cfg.monitors.push({ loc: l, opts: r.monitor });
        break;
      }
      case 'mon':
        cfg.monitors.push({ loc: l, opts: at(l, () => parseMonOption(arg)) });
        break;
      case 'monitor':
        if (arg === 'none') break;
        throw new VlError(l, 'HMP monitors on a chardev are not supported by this engine; use -qmp');
      case 'serial':
        cfg.serials.push({ loc: l, dev: arg });
        break;
      case 'kernel':
      case 'initrd':
      case 'append':
      case 'dtb':
        cfg.machineDict[o.def.name] = arg;
        break;
      case 'bios':
        cfg.machineDict['firmware'] = arg;
        break;
      case 'display':
        if (arg !== 'none')
          throw new VlError(l, `Parameter 'type' does not accept value '${arg.split(',')[0]}'`);
        break;
      case 'nographic':
        cfg.nographic = true;
        break;
      case 'S':
        cfg.autostart = false;
        break;
      case 'pidfile':
        cfg.pidfile = arg;
        break;
      case 'incoming':
        cfg.incoming = arg;
        break;
      case 'snapshot-store':
        setSnapshotStoreDir(arg);
        break;
      case 'nodefaults':
        cfg.nodefaults = true;
        break;
      case 'no-shutdown':
      case 'no-reboot':
        break;
      default:
        throw new VlError(l, 'invalid option');
    }
  }
  return cfg;
}

/**
 * serial_parse() for every -serial (or the default: stdio with -nographic): chardevs "serial0"...
 * "chardev:ID" names an existing one; "mon:stdio" and the -nographic default get the console escape
 * keys (QEMU's mux, without a monitor behind it).
 */
async function serialHdsCreate(cfg: VlConfig, machine: MachineState): Promise<void> {
  let list = cfg.serials;
  if (list.length === 0 && cfg.nographic && !cfg.nodefaults && !MACHINE_GET_CLASS(machine).noSerial) {
    list = [{ loc: '-nographic', dev: 'mon:stdio' }];
  }
  let index = 0;
  for (const { loc: l, dev } of list) {
    if (dev === 'none') continue;
    if (index >= 4) throw new VlError(l, 'too many serial ports');
    const label = `serial${index}`;
    let chr: Chardev | undefined;
    if (dev.startsWith('chardev:')) {
      chr = qemuChrFind(dev.slice(8));
      if (!chr) throw new VlError(l, `could not connect serial device to character backend '${dev}'`);
    } else {
      const opts = at(l, () => chrParseCompat(label, dev, true));
      const mux = opts.opts.get('mux') === 'on';
      opts.opts.delete('mux');
      chr = await atAsync(l, () => qemuChrNewFromOpts(opts));
      setSerialHd(index++, chr, mux);
      continue;
    }
    setSerialHd(index++, chr, false);
  }
}

/** configure_blockdev(): -blockdev nodes, then -drive backends, then the default empty drives. */
async function configureBlockdev(
  cfg: VlConfig,
  machine: MachineState,
): Promise<Array<{ loc: string; dict: QDict }>> {
  for (const b of cfg.blockdevs) await atAsync(b.loc, () => qmpBlockdevAdd(b.opts));
  const devices: Array<{ loc: string; dict: QDict }> = [];
  for (const d of cfg.drives) {
    const r = await atAsync(d.loc, () => driveNew(d.arg, cfg.snapshot));
    if (r.device) devices.push({ loc: d.loc, dict: r.device });
  }
  if (!cfg.nodefaults) driveAddDefaults(MACHINE_GET_CLASS(machine));
  return devices;
}

/** qemu_init(): returns when the machine is running (or prelaunch), or with an exit code. */
export async function qemuInit(argv: readonly string[], io: VlIo): Promise<VlResult> {
  const cfg = parseOptions(argv, io);
  if ('exit' in cfg) return { kind: 'exit', code: cfg.exit };

  // qemu_process_help_options()
  if (cfg.deviceHelp) {
    const text = at(null, () => qdevDeviceHelp(cfg.deviceHelp!));
    if (text !== null) {
      io.out(text);
      return { kind: 'exit', code: 0 };
    }
  }

  // select_machine()
  const type = cfg.machineDict['type'];
  delete cfg.machineDict['type'];
  if (type === 'help' || type === '?') {
    io.out(machineHelp());
    return { kind: 'exit', code: 0 };
  }
  if (type === undefined) {
    if (!findDefaultMachine()) {
      throw new VlError(
        null,
        'No machine specified, and there is no default',
        'Use -machine help to list supported machines\n',
      );
    }
  } else if (typeof type !== 'string' || !findMachine(type)) {
    throw new VlError(null, 'unsupported machine type', 'Use -machine help to list supported machines\n');
  }
  const machine = at(null, () => machineCreate(typeof type === 'string' ? type : findDefaultMachine()!.name));

  // Memory and topology become machine properties, as machine_parse_property_opt() does.
  const mem = cfg.opts.all('memory')[0];
  if (mem) {
    const d = qdict();
    for (const [opt, key] of [
      ['size', 'size'],
      ['slots', 'slots'],
      ['maxmem', 'max-size'],
    ] as const) {
      if (mem.has(opt)) d[key] = String(mem.getNumber(opt, 0n));
    }
    cfg.machineDict['memory'] = d;
  }
  if (cfg.smpDicts.length) {
    const d = qdict();
    for (const s of cfg.smpDicts) Object.assign(d, s.dict);
    cfg.machineDict['smp'] = d;
  }
  // qemu_apply_machine_options()
  at(null, () => objectSetPropertiesFromKeyval(machine, cfg.machineDict, false));
  setGuestIdentity({
    name: cfg.nameOpts?.get('guest'),
    uuid: cfg.uuid ?? undefined,
  });

  // qemu_create_early_backends(): early objects, then chardevs.
  for (const o of cfg.objects) {
    if (objectCreateEarly(String(o.dict['qom-type']))) at(o.loc, () => userCreatableAddDict(o.dict, !o.json));
  }
  for (const c of cfg.chardevs) await atAsync(c.loc, () => qemuChrNewFromOpts(c.opts));
  const driveDevices = await configureBlockdev(cfg, machine);

  // qemu_create_late_backends(): late objects, monitors.
  for (const o of cfg.objects) {
    if (!objectCreateEarly(String(o.dict['qom-type'])))
      at(o.loc, () => userCreatableAddDict(o.dict, !o.json));
  }
  for (const m of cfg.monitors) at(m.loc, () => monitorInit(m.opts, false));
  await serialHdsCreate(cfg, machine);

  // qmp_x_exit_preconfig(): board, -device, creation done, start.
  try {
    at(null, () => machineRunBoardInit(machine));
  } catch (e) {
    if (!(e instanceof DumpDtbExit)) throw e;
    io.err(`${PROG}: info: ${e.message}\n`);
    return { kind: 'exit', code: 0 };
  }
  for (const d of cfg.devices) at(d.loc, () => qdevDeviceAdd(d.dict, d.json));
  for (const d of driveDevices) at(d.loc, () => qdevDeviceAdd(driveDeviceOptions(d.dict), false));
  qdevMachineCreationDone();

  if (cfg.pidfile) {
    try {
      writeFileSync(cfg.pidfile, `${process.pid}\n`);
    } catch (e) {
      throw new VlError(null, `cannot create PID file: ${(e as Error).message}`);
    }
  }
  setAutostart(cfg.autostart);
  if (cfg.incoming !== null) at(null, () => migrationSetIncoming(cfg.incoming!));
  else if (cfg.autostart) vmStart();
  else runstateSet('prelaunch');
  return { kind: 'running', machine };
}
