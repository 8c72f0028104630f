/**
 * The engine's QMP command table: every handler the schema declares, gathered from the subsystem
 * that owns it. The generated QmpCommandHandlers type makes a missing handler a compile error.
 */
import type { QmpCommandHandlers } from '../qapi/generated/qapi-commands.js';
import { qmpCommandTable } from '../qapi/generated/qapi-commands.js';
import { qmpSchemaInfo } from '../qapi/generated/qapi-introspect.js';
import type { QmpCommandList } from '../qapi/qmp-dispatch.js';
import { monitorCommandHandlers } from '../monitor/qmp-handlers.js';
import {
  qmpDeviceListProperties,
  qmpObjectAdd,
  qmpObjectDel,
  qmpQomGet,
  qmpQomList,
  qmpQomListProperties,
  qmpQomListTypes,
  qmpQomSet,
} from '../qom/qom-qmp-cmds.js';
import { qmpDeviceAdd, qmpDeviceDel } from '../hw/core/qdev-monitor.js';
import { qmpQueryMachines } from '../hw/core/machine.js';
import { qmpQueryName, qmpQueryUuid } from './guest-identity.js';
import { qemuSystemPowerdownRequest } from './runstate.js';
import { qmpQueryCpusFast } from '../hw/riscv/riscv_hart.js';
import { qobjectClone } from '../qobject/qobject.js';
import { qmpMigrate, qmpMigrateCancel, qmpMigrateIncoming, qmpQueryMigrate } from '../migration/migration.js';
import { qmpSnapshotDelete, qmpSnapshotLoad, qmpSnapshotSave } from '../migration/snapshot.js';
import { qmpJobDismiss, qmpQueryJobs } from '../migration/job.js';
import { qmpBlockdevAdd, qmpBlockdevDel, qmpQueryBlock, qmpQueryNamedBlockNodes } from '../block/blockdev.js';
import { qmpQueryStats, qmpQueryStatsSchemas } from '../monitor/stats.js';
import {
  qmpChardevAdd,
  qmpChardevRemove,
  qmpChardevSendBreak,
  qmpQueryChardev,
  qmpQueryChardevBackends,
  qmpRingbufRead,
  qmpRingbufWrite,
} from '../chardev/char-registry.js';
import { qmpInputSendEvent } from '../ui/input.js';
import { qmpQueryMice, qmpSendKey } from '../ui/input-keys.js';

export const engineCommandHandlers: QmpCommandHandlers = {
  ...monitorCommandHandlers,
  queryQmpSchema: () => qobjectClone(qmpSchemaInfo),
  qomList: (a) => qmpQomList(a),
  qomGet: (a) => qmpQomGet(a),
  qomSet: (a) => qmpQomSet(a),
  qomListTypes: (a) => qmpQomListTypes(a),
  qomListProperties: (a) => qmpQomListProperties(a),
  deviceListProperties: (a) => qmpDeviceListProperties(a),
  objectAdd: (a) => qmpObjectAdd(a as unknown as Record<string, unknown>),
  objectDel: (a) => qmpObjectDel(a),
  deviceAdd: (a) => qmpDeviceAdd(a),
  deviceDel: (a) => qmpDeviceDel(a),
  queryMachines: () => qmpQueryMachines(),
  queryCpusFast: () => qmpQueryCpusFast(),
  queryTarget: () => ({ arch: 'riscv64' }),
  queryKvm: () => ({ enabled: false, present: false }),
  systemPowerdown: () => qemuSystemPowerdownRequest(),
  queryName: () => qmpQueryName(),
  queryUuid: () => qmpQueryUuid(),
  queryMigrate: () => qmpQueryMigrate(),
  migrate: (a) => qmpMigrate(a),
  migrateCancel: () => qmpMigrateCancel(),
  migrateIncoming: (a) => qmpMigrateIncoming(a),
  snapshotSave: (a) => qmpSnapshotSave(a),
  snapshotLoad: (a) => qmpSnapshotLoad(a),
  snapshotDelete: (a) => qmpSnapshotDelete(a),
  queryJobs: () => qmpQueryJobs(),
  jobDismiss: (a) => qmpJobDismiss(a),
  queryBlock: () => qmpQueryBlock(),
  queryNamedBlockNodes: (a) => qmpQueryNamedBlockNodes(a.flat),
  blockdevAdd: (a) => qmpBlockdevAdd(a),
  blockdevDel: (a) => qmpBlockdevDel(a['node-name']),
  queryStats: (a) => qmpQueryStats(a),
  queryStatsSchemas: (a) => qmpQueryStatsSchemas(a),
  queryChardev: () => qmpQueryChardev(),
  queryChardevBackends: () => qmpQueryChardevBackends(),
  chardevAdd: (a) => qmpChardevAdd(a.id, a.backend),
  chardevRemove: (a) => qmpChardevRemove(a.id),
  chardevSendBreak: (a) => qmpChardevSendBreak(a.id),
  ringbufWrite: (a) => qmpRingbufWrite(a.device, a.data, a.format),
  ringbufRead: (a) => qmpRingbufRead(a.device, a.size, a.format),
  inputSendEvent: (a) => qmpInputSendEvent(a),
  sendKey: (a) => qmpSendKey(a),
  queryMice: () => qmpQueryMice(),
};

export function engineCommandTable(): QmpCommandList {
  return qmpCommandTable(engineCommandHandlers);
}
