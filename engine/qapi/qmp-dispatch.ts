/**
 * QMP request dispatch (QEMU's qapi/qmp-dispatch.c): validate the request envelope, find the command,
 * check it may run now, call it, and build the response dictionary.
 *
 * The monitor decides *when* a request runs (in-band queue or out-of-band); this module only decides
 * *what* the answer is. It never throws: every failure becomes an {"error": ...} response, and any
 * exception that is not a QapiError (an engine bug) is reported as GenericError instead of crashing.
 *
 * Key order of the response dictionaries follows what QEMU 7.2 prints (its QDict iterates in hash
 * order, which puts "id" before "error" but after "return"), see neg-proto.transcript.txt.
 */
import { QapiError, isQapiError } from './error.js';
import { type QDict, type QObject, isQDict, qdict, qdictHas } from '../qobject/qobject.js';
import type { QmpCommand } from './qmp-types.js';

/** The command table entry, as the QAPI generator produces it (engine/qapi/qmp-types.ts). */
export type QmpCommandEntry = QmpCommand;

export type QmpCommandList = ReadonlyMap<string, QmpCommandEntry>;

/**
 * Whether commands without allow-preconfig may run (QEMU: phase_check(PHASE_MACHINE_READY)).
 * The machine-creation code flips this; it defaults to "ready" so a bare monitor works.
 */
let machineReady: () => boolean = () => true;

export function setQmpMachineReadyCheck(check: () => boolean): void {
  machineReady = check;
}

/** Does this request look like a command to be run out-of-band? */
export function qmpIsOob(dict: QDict): boolean {
  return qdictHas(dict, 'exec-oob') && !qdictHas(dict, 'execute');
}

/** {"error": {"class": ..., "desc": ...}} for an error (qmp_error_response). */
export function qmpErrorResponse(err: QapiError): QDict {
  return qdict({ error: qdict({ class: err.errorClass, desc: err.message }) });
}

/** Turn anything a handler threw into a QapiError; non-QAPI exceptions are engine bugs → GenericError. */
export function toQapiError(e: unknown): QapiError {
  if (isQapiError(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new QapiError(msg || 'internal error', 'GenericError');
}

/** Envelope validation (qmp_dispatch_check_obj). Returns the key naming the command. */
function checkRequest(dict: QDict, allowOob: boolean): 'execute' | 'exec-oob' {
  let execKey: 'execute' | 'exec-oob' | null = null;
  for (const key of Object.keys(dict)) {
    const value = dict[key]!;
    if (key === 'execute' || (key === 'exec-oob' && allowOob)) {
      if (typeof value !== 'string') {
        throw new QapiError(`QMP input member '${key}' must be a string`);
      }
      if (execKey) {
        throw new QapiError(`QMP input member '${key}' clashes with '${execKey}'`);
      }
      execKey = key;
    } else if (key === 'arguments') {
      if (!isQDict(value)) throw new QapiError("QMP input member 'arguments' must be an object");
    } else if (key !== 'id') {
      throw new QapiError(`QMP input member '${key}' is unexpected`);
    }
  }
  if (!execKey) throw new QapiError("QMP input lacks member 'execute'");
  return execKey;
}

/** Result of the pre-call checks: either an error or the command plus its arguments. */
type Prepared = { error: QapiError } | { cmd: QmpCommandEntry; args: QDict; oob: boolean };

function prepare(cmds: QmpCommandList, request: QObject, allowOob: boolean): Prepared {
  try {
    if (!isQDict(request)) throw new QapiError('QMP input must be a JSON object');
    const execKey = checkRequest(request, allowOob);
    const name = request[execKey] as string;
    const oob = execKey === 'exec-oob';
    const cmd = cmds.get(name);
    if (!cmd) throw new QapiError(`The command ${name} has not been found`, 'CommandNotFound');
    if (!cmd.enabled) {
      throw new QapiError(`The command ${name} has been disabled for this instance`, 'CommandNotFound');
    }
    if (oob && !cmd.options.allowOob) throw new QapiError(`The command ${name} does not support OOB`);
    if (!cmd.options.allowPreconfig && !machineReady()) {
      throw new QapiError(
        `The command '${cmd.name}' is permitted only after machine initialization has completed`,
      );
    }
    const args = qdictHas(request, 'arguments') ? (request['arguments'] as QDict) : qdict();
    return { cmd, args, oob };
  } catch (e) {
    return { error: toQapiError(e) };
  }
}

function finish(request: QObject, ret: QObject | undefined, err: QapiError | null): QDict {
  const id = isQDict(request) && qdictHas(request, 'id') ? request['id']! : undefined;
  const rsp = qdict();
  if (err) {
    if (id !== undefined) rsp['id'] = id;
    rsp['error'] = qdict({ class: err.errorClass, desc: err.message });
  } else {
    // A command whose schema has no 'returns' answers {} (handlers may return undefined/null for it).
    rsp['return'] = ret === undefined || ret === null ? qdict() : ret;
    if (id !== undefined) rsp['id'] = id;
  }
  return rsp;
}

/**
 * Dispatch one request. `monitor` is handed to the command as its CommandContext.monitor
 * (QEMU's monitor_cur()). Resolves with the response dictionary, or null for a successful command
 * declared without success response ('success-response': false, QCO_NO_SUCCESS_RESP).
 */
export async function qmpDispatch(
  cmds: QmpCommandList,
  request: QObject,
  allowOob: boolean,
  monitor: unknown,
): Promise<QDict | null> {
  const p = prepare(cmds, request, allowOob);
  if ('error' in p) return finish(request, undefined, p.error);
  try {
    const ret = await p.cmd.fn(p.args, { monitor, oob: p.oob });
    if (p.cmd.options.successResponse === false) return null;
    return finish(request, ret, null);
  } catch (e) {
    return finish(request, undefined, toQapiError(e));
  }
}
