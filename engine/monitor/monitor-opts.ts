/**
 * Monitor options from the command line (QEMU's vl.c monitor_parse and monitor.c monitor_init):
 *   -qmp unix:/path,server=on,wait=off   -qmp-pretty ...   (legacy chardev syntax, mode control)
 *   -qmp chardev:id                      (an existing -chardev)
 *   -mon chardev=id,mode=control,pretty=on
 * The command-line layer creates the chardevs (qemuChrNewFromOpts) before calling monitorInit, as
 * QEMU creates backends before monitors.
 */
import { QapiError } from '../qapi/error.js';
import { type ChardevOpts, chrParseCompat } from '../chardev/char-opts.js';
import { qemuChrFind } from '../chardev/char-registry.js';
import { MonitorQMP, type MonitorQmpOptions } from './qmp.js';

export interface MonitorOptions {
  id?: string;
  chardev: string;
  mode?: 'control' | 'readline';
  pretty?: boolean;
}

let monitorDeviceIndex = 0;

/** Test hook: restart the compat_monitorN numbering. */
export function resetMonitorDeviceIndex(): void {
  monitorDeviceIndex = 0;
}

/**
 * monitor_parse: -qmp/-qmp-pretty/-monitor argument → the chardev to create (null for "chardev:id")
 * and the monitor options. Throws "parse error: <arg>"-worthy QapiErrors from the chardev syntax.
 */
export function monitorParse(
  optarg: string,
  mode: 'control' | 'readline',
  pretty: boolean,
): { chardev: ChardevOpts | null; monitor: MonitorOptions } {
  let label: string;
  let chardev: ChardevOpts | null = null;
  if (optarg.startsWith('chardev:')) {
    label = optarg.slice('chardev:'.length);
  } else {
    label = `compat_monitor${monitorDeviceIndex}`;
    chardev = chrParseCompat(label, optarg, true);
  }
  monitorDeviceIndex++;
  const monitor: MonitorOptions = { id: label, chardev: label, mode };
  if (mode === 'control') monitor.pretty = pretty;
  return { chardev, monitor };
}

const MON_BOOL = new Map([
  ['on', true],
  ['yes', true],
  ['true', true],
  ['y', true],
  ['off', false],
  ['no', false],
  ['false', false],
  ['n', false],
]);

/** -mon option string (qemu_mon_opts: implied "chardev", keys mode/chardev/pretty). */
export function parseMonOption(str: string): MonitorOptions {
  const opts: Partial<MonitorOptions> = {};
  str.split(/,(?!,)/).forEach((part, i) => {
    const eq = part.indexOf('=');
    const [name, value] =
      eq < 0 ? (i === 0 ? ['chardev', part] : [part, 'on']) : [part.slice(0, eq), part.slice(eq + 1)];
    switch (name) {
      case 'id':
        opts.id = value;
        break;
      case 'chardev':
        opts.chardev = value;
        break;
      case 'mode':
        if (value !== 'control' && value !== 'readline') {
          throw new QapiError(`Parameter 'mode' does not accept value '${value}'`);
        }
        opts.mode = value;
        break;
      case 'pretty': {
        const b = MON_BOOL.get(value);
        if (b === undefined) throw new QapiError("Parameter 'pretty' expects 'on' or 'off'");
        opts.pretty = b;
        break;
      }
      default:
        throw new QapiError(`Invalid parameter '${name}'`);
    }
  });
  if (opts.chardev === undefined) throw new QapiError("Parameter 'chardev' is missing");
  return opts as MonitorOptions;
}

/** monitor_init: attach a monitor to an existing chardev. */
export function monitorInit(
  opts: MonitorOptions,
  allowHmp: boolean,
  extra: MonitorQmpOptions = {},
): MonitorQMP {
  const chr = qemuChrFind(opts.chardev);
  if (!chr) throw new QapiError(`chardev "${opts.chardev}" not found`);
  const mode = opts.mode ?? (allowHmp ? 'readline' : 'control');
  if (mode === 'readline') {
    if (!allowHmp) throw new QapiError('Only QMP is supported');
    if (opts.pretty) throw new QapiError("'pretty' is not compatible with HMP monitors");
    throw new QapiError(
      'HMP monitors on a chardev are not supported by this engine; use human-monitor-command',
    );
  }
  return new MonitorQMP(chr, { ...extra, pretty: opts.pretty ?? false }).start();
}
