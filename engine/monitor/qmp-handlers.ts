/**
 * The QMP command handlers this part of the engine implements, in the shape the generated command
 * table takes (QmpCommandHandlers from engine/qapi/generated/qapi-commands.ts). main.ts merges them
 * with the other modules' handlers and passes the result to qmpCommandTable().
 */
import type { QmpCommandHandlers } from '../qapi/generated/qapi-commands.js';
import { qmpCont, qmpQueryStatus, qmpQuit, qmpStop, qmpSystemReset } from '../system/runstate.js';
import { qmpHumanMonitorCommand } from './hmp.js';
import { qmpCapabilities, qmpQueryCommands } from './qmp-cmds-control.js';
import { QEMU_COMPAT_VERSION, ENGINE_PACKAGE } from '../version.js';

export type MonitorHandlerNames =
  | 'queryStatus'
  | 'qmpCapabilities'
  | 'queryVersion'
  | 'queryCommands'
  | 'quit'
  | 'systemReset'
  | 'stop'
  | 'cont'
  | 'humanMonitorCommand';

export const monitorCommandHandlers: Pick<QmpCommandHandlers, MonitorHandlerNames> = {
  queryStatus: () => qmpQueryStatus(),
  qmpCapabilities: (args, ctx) => qmpCapabilities(args.enable, ctx),
  queryVersion: () => {
    const { major, minor, micro } = QEMU_COMPAT_VERSION;
    return { qemu: { major, minor, micro }, package: ENGINE_PACKAGE };
  },
  queryCommands: (ctx) => qmpQueryCommands(ctx),
  quit: () => qmpQuit(),
  systemReset: () => qmpSystemReset(),
  stop: () => qmpStop(),
  cont: () => qmpCont(),
  humanMonitorCommand: (args) => qmpHumanMonitorCommand(args['command-line'], args['cpu-index']),
};
