/**
 * HMP, the human monitor, as human-monitor-command runs it (QEMU's monitor/hmp.c and
 * qmp_human_monitor_command): a command table with an "info" sub-table, QEMU's texts for unknown
 * commands and bad arguments, and output whose "\n" become "\r\n" (monitor_puts), as QEMU returns it.
 *
 * Other modules add commands: registerHmpInfo("qtree", "show device tree", () => text) for
 * "info qtree", registerHmpCommand({...}) for top-level commands that take a raw argument line.
 */
import { QapiError, isQapiError } from '../qapi/error.js';
import { qmpCont, qmpQuit, qmpStop, qmpSystemReset, qmpQueryStatus } from '../system/runstate.js';

export type HmpHandler = (args: string) => string | void | Promise<string | void>;

export interface HmpCommand {
  /** "name" or "alias|name" (the help shows it as given). */
  name: string;
  params: string;
  help: string;
  /** Receives the rest of the line (trimmed); returns the text to print. */
  handler?: HmpHandler;
  /** Commands that take no arguments reject trailing text like QEMU's argument parser. */
  takesArgs?: boolean;
  subTable?: HmpCommand[];
}

const infoTable: HmpCommand[] = [];

const hmpTable: HmpCommand[] = [
  { name: 'help|?', params: '[cmd]', help: 'show the help', takesArgs: true, handler: (a) => helpCmd(a) },
  { name: 'q|quit', params: '', help: 'quit the emulator', handler: () => qmpQuit() },
  { name: 'stop', params: '', help: 'stop emulation', handler: () => qmpStop() },
  { name: 'c|cont', params: '', help: 'resume emulation', handler: () => qmpCont() },
  { name: 'system_reset', params: '', help: 'reset the system', handler: () => qmpSystemReset() },
  {
    name: 'info',
    params: '[subcommand]',
    help: 'show various information about the system state',
    handler: () => helpCmd('info'),
    subTable: infoTable,
  },
];

function compareCmd(name: string, list: string): boolean {
  return list.split('|').includes(name);
}

function insertSorted(table: HmpCommand[], cmd: HmpCommand): void {
  const key = cmd.name.split('|').at(-1)!;
  const existing = table.findIndex((c) => compareCmd(key, c.name));
  if (existing >= 0) {
    table[existing] = cmd;
    return;
  }
  const i = table.findIndex((c) => c.name.split('|').at(-1)! > key);
  if (i < 0) table.push(cmd);
  else table.splice(i, 0, cmd);
}

/** Register "info <name>" (replaces an earlier registration of the same name). */
export function registerHmpInfo(
  name: string,
  help: string,
  fn: (args: string) => string | Promise<string>,
  params = '',
): void {
  insertSorted(infoTable, { name, params, help, handler: (args) => fn(args) });
}

/** Register a top-level HMP command. */
export function registerHmpCommand(cmd: HmpCommand): void {
  const i = hmpTable.findIndex((c) => c.name === cmd.name);
  if (i >= 0) hmpTable[i] = cmd;
  else hmpTable.splice(hmpTable.length - 1, 0, cmd);
}

registerHmpInfo('status', 'show the current VM status (running|paused)', () => {
  const s = qmpQueryStatus();
  let out = `VM status: ${s.running ? 'running' : 'paused'}${s.singlestep ? ' (single step mode)' : ''}`;
  if (!s.running && s.status !== 'paused') out += ` (${s.status})`;
  return `${out}\n`;
});

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);

/** get_command_name: the name ends at whitespace or '/'. Returns [name, index after it]. */
function commandName(line: string, from: number): [string, number] | null {
  let p = from;
  while (isSpace(line[p])) p++;
  if (p >= line.length) return null;
  const start = p;
  while (p < line.length && line[p] !== '/' && !isSpace(line[p])) p++;
  return [line.slice(start, p), p];
}

/** help_cmd / help_cmd_dump. */
function helpCmd(arg: string): string {
  const args = arg.split(/\s+/).filter((s) => s !== '');
  let out = '';
  const dumpOne = (cmd: HmpCommand, prefix: string[]): void => {
    out += `${prefix.map((p) => `${p} `).join('')}${cmd.name} ${cmd.params} -- ${cmd.help}\n`;
  };
  const dump = (table: HmpCommand[], i: number): void => {
    if (i >= args.length) {
      for (const c of table) dumpOne(c, args.slice(0, i));
      return;
    }
    const c = table.find((t) => compareCmd(args[i]!, t.name));
    if (!c) {
      out += `unknown command: '${args.slice(0, i + 1).join(' ')}'\n`;
      return;
    }
    if (c.subTable) dump(c.subTable, i + 1);
    else dumpOne(c, args.slice(0, i));
  };
  dump(hmpTable, 0);
  return out;
}

/** handle_hmp_command: run one command line; returns what the monitor would print ("\n" endings). */
async function handleHmpCommand(line: string): Promise<string> {
  let table = hmpTable;
  let pos = 0;
  let cmd: HmpCommand | undefined;
  for (;;) {
    const found = commandName(line, pos);
    if (!found) {
      if (!cmd) return '';
      break;
    }
    const [name, end] = found;
    const c = table.find((t) => compareCmd(name, t.name));
    if (!c) return `unknown command: '${line.slice(0, end)}'\n`;
    cmd = c;
    pos = end;
    while (isSpace(line[pos])) pos++;
    if (!c.subTable || pos >= line.length) break;
    table = c.subTable;
  }
  const rest = line.slice(pos).trim();
  const shownName = cmd.name.split('|').at(-1)!;
  if (!cmd.handler) return `Command "${line.slice(0, pos).trimEnd()}" is not available.\n`;
  if (rest !== '' && !cmd.takesArgs) {
    return `${shownName}: extraneous characters at the end of line\nTry "help ${line.slice(0, pos).trim()}" for more information\n`;
  }
  try {
    return (await cmd.handler(rest)) ?? '';
  } catch (e) {
    // hmp_handle_error: error_reportf_err(err, "Error: ")
    const msg = isQapiError(e) ? e.message : e instanceof Error ? e.message : String(e);
    return `Error: ${msg}\n`;
  }
}

/** Whether a CPU index is valid (the CPU layer installs the real check). */
let cpuIndexValid: (index: number) => boolean = (i) => i === 0;

export function setHmpCpuIndexCheck(check: (index: number) => boolean): void {
  cpuIndexValid = check;
}

/** human-monitor-command: run an HMP command line and return its output with "\r\n" line ends. */
export async function qmpHumanMonitorCommand(commandLine: string, cpuIndex?: number): Promise<string> {
  if (cpuIndex !== undefined && !cpuIndexValid(cpuIndex)) {
    throw new QapiError("Parameter 'cpu-index' expects a CPU number");
  }
  const out = await handleHmpCommand(commandLine);
  return out.replace(/\n/g, '\r\n');
}
