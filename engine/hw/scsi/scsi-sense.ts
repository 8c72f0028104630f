/**
 * Sense data (QEMU's scsi/utils.c): fixed (0x70) and descriptor (0x72) formats, conversion between
 * them for REQUEST SENSE and autosense, and the sense a block-layer errno turns into.
 */
import type { BlockErrno } from '../../block/block-error.js';
import { BlockIoError } from '../../block/block-error.js';
import { CHECK_CONDITION, SCSI_SENSE_LEN, SENSE_CODE, type SCSISense } from './scsi-constants.js';

/** scsi_build_sense_buf(): `sense` in fixed or descriptor format, at most `size` bytes. */
export function scsiBuildSenseBuf(sense: SCSISense, size: number, fixed: boolean): Uint8Array {
  const buf = new Uint8Array(SCSI_SENSE_LEN);
  let len: number;
  if (fixed) {
    buf[0] = 0x70;
    buf[2] = sense.key;
    buf[7] = 10;
    buf[12] = sense.asc;
    buf[13] = sense.ascq;
    len = Math.min(size, SCSI_SENSE_LEN);
  } else {
    buf[0] = 0x72;
    buf[1] = sense.key;
    buf[2] = sense.asc;
    buf[3] = sense.ascq;
    len = Math.min(size, 8);
  }
  return buf.slice(0, Math.max(0, len));
}

/** scsi_build_sense(): the fixed-format sense a failing request carries. */
export function scsiBuildSense(sense: SCSISense): Uint8Array {
  return scsiBuildSenseBuf(sense, SCSI_SENSE_LEN, true);
}

/** scsi_parse_sense_buf(): key/ASC/ASCQ of a fixed or descriptor sense buffer. */
export function scsiParseSenseBuf(buf: Uint8Array): SCSISense {
  if (buf.length < 1) return { ...SENSE_CODE.NO_SENSE };
  if ((buf[0]! & 0x02) === 0) {
    // fixed format
    return {
      key: (buf[2] ?? 0) & 0x0f,
      asc: buf.length >= 14 ? buf[12]! : 0,
      ascq: buf.length >= 14 ? buf[13]! : 0,
    };
  }
  return { key: (buf[1] ?? 0) & 0x0f, asc: buf[2] ?? 0, ascq: buf[3] ?? 0 };
}

/**
 * scsi_convert_sense(): `input` (possibly empty: NO SENSE) in the requested format, at most `size`
 * bytes. Data already in the right format is copied as is.
 */
export function scsiConvertSense(input: Uint8Array, size: number, fixed: boolean): Uint8Array {
  if (input.length === 0) return scsiBuildSenseBuf(SENSE_CODE.NO_SENSE, size, fixed);
  const inFixed = (input[0]! & 0x02) === 0;
  if (inFixed === fixed) return input.slice(0, Math.min(size, input.length));
  return scsiBuildSenseBuf(scsiParseSenseBuf(input), size, fixed);
}

/** scsi_sense_from_errno(): status and sense for a failed block request. */
export function scsiSenseFromErrno(errno: BlockErrno | string): { status: number; sense: SCSISense } {
  switch (errno) {
    case 'ENOMEDIUM':
      return { status: CHECK_CONDITION, sense: SENSE_CODE.NO_MEDIUM };
    case 'EINVAL':
      return { status: CHECK_CONDITION, sense: SENSE_CODE.INVALID_FIELD };
    case 'ENOSPC':
      return { status: CHECK_CONDITION, sense: SENSE_CODE.SPACE_ALLOC_FAILED };
    default:
      return { status: CHECK_CONDITION, sense: SENSE_CODE.IO_ERROR };
  }
}

/** The errno name of an I/O failure (anything that is not a BlockIoError counts as EIO). */
export function errnoOf(e: unknown): string {
  return e instanceof BlockIoError ? e.errno : 'EIO';
}
