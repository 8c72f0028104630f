/**
 * A minimal SCSI host adapter for unit tests: a sysbus device owning one SCSI bus ("<id>.0"), that
 * sends CDBs to (target, LUN) with plain buffers as the data port and collects completions.
 */
import { typeRegisterOnce } from '../../engine/qom/object.js';
import { qdevNew, qdevRealizeAndUnref, type DeviceClass } from '../../engine/hw/core/qdev-core.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE, sysbusGetDefault } from '../../engine/hw/core/sysbus.js';
import {
  SCSIBus,
  scsiBusNew,
  scsiDeviceFind,
  scsiReqEnqueue,
  scsiReqGetSense,
  scsiReqNew,
  type SCSIRequest,
} from '../../engine/hw/scsi/scsi-bus.js';
import { qdevSetId } from '../../engine/hw/core/qdev-monitor.js';

export interface CmdResult {
  /** 'bad-target' when no device answers for the target (the HBA's own response). */
  status: number | 'bad-target' | 'cancelled';
  data: Uint8Array;
  sense: Uint8Array;
  residual: number;
}

export class TestHba extends SysBusDevice {
  bus!: SCSIBus;
  cancelled: SCSIRequest[] = [];
  private waiting = new Map<SCSIRequest, (r: CmdResult) => void>();
  private buffers = new Map<SCSIRequest, Uint8Array>();

  /** Send `cdb` to target/LUN; `dataOut` for writes, `alloc` bytes of room for reads. */
  command(
    cdb: number[],
    o: { target?: number; lun?: number; dataOut?: Uint8Array; alloc?: number } = {},
  ): Promise<CmdResult> {
    const target = o.target ?? 0;
    const lun = o.lun ?? 0;
    const dev = scsiDeviceFind(this.bus, 0, target, lun);
    if (!dev)
      return Promise.resolve({
        status: 'bad-target',
        data: new Uint8Array(0),
        sense: new Uint8Array(0),
        residual: 0,
      });
    const buf = o.dataOut ?? new Uint8Array(o.alloc ?? 4096);
    const port = {
      size: buf.length,
      write: (off: number, d: Uint8Array) => buf.set(d, off),
      read: (off: number, n: number) => buf.slice(off, off + n),
    };
    const req = scsiReqNew(dev, 1, lun, Uint8Array.from(cdb), null, port);
    this.buffers.set(req, buf);
    const p = new Promise<CmdResult>((resolve) => this.waiting.set(req, resolve));
    void scsiReqEnqueue(req);
    return p;
  }

  onComplete(req: SCSIRequest, status: number): void {
    const buf = this.buffers.get(req)!;
    const sense = scsiReqGetSense(req, 96);
    this.waiting.get(req)?.({
      status,
      data: buf.subarray(0, buf.length - req.residual),
      sense,
      residual: req.residual,
    });
  }

  onCancel(req: SCSIRequest): void {
    this.cancelled.push(req);
    this.waiting.get(req)?.({
      status: 'cancelled',
      data: new Uint8Array(0),
      sense: new Uint8Array(0),
      residual: 0,
    });
  }
}

export const TYPE_TEST_HBA = 'vmstudio-test-scsi-hba';

typeRegisterOnce<TestHba, DeviceClass>({
  name: TYPE_TEST_HBA,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: TestHba,
  classInit(dc) {
    dc.userCreatable = false;
    dc.realize = (d) => {
      const hba = d as TestHba;
      hba.bus = scsiBusNew(hba, {
        tcq: true,
        maxChannel: 0,
        maxTarget: 255,
        maxLun: 16383,
        complete: (req, status) => hba.onComplete(req, status),
        cancel: (req) => hba.onCancel(req),
      });
    };
  },
});

/** Create and realize a test HBA with id `id` (its bus is "<id>.0"). */
export function testHbaCreate(id = 'hba'): TestHba {
  const hba = qdevNew<TestHba>(TYPE_TEST_HBA);
  qdevSetId(hba, id);
  qdevRealizeAndUnref(hba, sysbusGetDefault());
  return hba;
}
