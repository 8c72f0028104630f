/**
 * The runtime contract between the generated QMP command table (engine/qapi/generated/
 * qapi-commands.ts) and the QMP dispatcher/monitor, like QEMU's QmpCommand in qapi/qmp-registry.h.
 */
import type { QDict, QObject } from '../qobject/qobject.js';
import type { Visitor } from './visitor.js';

/** What a command handler learns about its caller. */
export interface CommandContext {
  /** The monitor the command came from (opaque here; the monitor code knows its type). */
  monitor: unknown;
  /** True when the command runs out-of-band ("exec-oob"). */
  oob: boolean;
}

export interface QmpCommandOptions {
  allowOob: boolean;
  allowPreconfig: boolean;
  coroutine: boolean;
  /** False for commands that send no response (QEMU's QCO_NO_SUCCESS_RESP, 'success-response': false). */
  successResponse?: boolean;
}

/** One entry of the command table. `fn` unmarshals `args`, runs the handler and marshals the result. */
export interface QmpCommand {
  name: string;
  fn(args: QDict, ctx: CommandContext): QObject | Promise<QObject>;
  options: QmpCommandOptions;
  /** Schema feature names, e.g. 'deprecated' (the dispatcher applies the compat policy). */
  features: string[];
  /** qmp_disable_command() clears this. */
  enabled: boolean;
}

/** An output visitor that yields the QObject it built (QEMU's visit_complete()). */
export interface QmpOutputVisitor extends Visitor {
  result(): QObject;
}

/** How marshalers obtain visitors: QMP input for arguments, output for results and event data. */
export interface QmpVisitorFactory {
  input(args: QDict): Visitor;
  output(): QmpOutputVisitor;
}
