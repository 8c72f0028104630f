/**
 * CDB parsing (QEMU's scsi_req_parse_cdb and scsi/utils.c helpers): the CDB length from the opcode
 * group, the transfer length in bytes, its direction, and the LBA. Only the rules for direct-access
 * and MMC devices are modelled (tapes, changers and scanners are not emulated here).
 */
import * as C from './scsi-constants.js';

export type XferMode = 'none' | 'from-dev' | 'to-dev';

export interface SCSICommand {
  /** The CDB (cmd.len bytes used; kept as SCSI_CMD_BUF_SIZE bytes like QEMU). */
  buf: Uint8Array;
  len: number;
  /** Bytes the command transfers. */
  xfer: number;
  mode: XferMode;
  /** Logical block address, -1 when the command has none. */
  lba: number;
}

const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const be32 = (b: Uint8Array, o: number) =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** scsi_cdb_length(): by opcode group; -1 for vendor groups. */
export function scsiCdbLength(opcode: number): number {
  switch (opcode >> 5) {
    case 0:
      return 6;
    case 1:
    case 2:
      return 10;
    case 4:
      return 16;
    case 5:
      return 12;
    default:
      return -1;
  }
}

/** scsi_cdb_xfer(): the transfer length field of the CDB (blocks or bytes, per command). */
export function scsiCdbXfer(buf: Uint8Array): number {
  switch (buf[0]! >> 5) {
    case 0:
      return buf[4]!;
    case 1:
    case 2:
      return be16(buf, 7);
    case 4:
      return be32(buf, 10);
    case 5:
      return be32(buf, 6);
    default:
      return -1;
  }
}

/** scsi_data_cdb_xfer(): like scsiCdbXfer, but a 6-byte READ/WRITE length of 0 means 256 blocks. */
export function scsiDataCdbXfer(buf: Uint8Array): number {
  if (buf[0]! >> 5 === 0 && buf[4] === 0) return 256;
  return scsiCdbXfer(buf);
}

/** scsi_cmd_lba(). Beyond 2^53 the LBA is clamped (no device is that large). */
export function scsiCmdLba(buf: Uint8Array): number {
  switch (buf[0]! >> 5) {
    case 0:
      return be32(buf, 0) & 0x1fffff;
    case 1:
    case 2:
    case 5:
      return be32(buf, 2);
    case 4: {
      const hi = be32(buf, 2);
      const lo = be32(buf, 6);
      return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo;
    }
    default:
      return -1;
  }
}

function xferBytes(buf: Uint8Array, blocksize: number, devType: number): number {
  let xfer = scsiCdbXfer(buf);
  switch (buf[0]) {
    case C.TEST_UNIT_READY:
    case C.START_STOP:
    case C.RESERVE:
    case C.RELEASE:
    case C.ALLOW_MEDIUM_REMOVAL:
    case C.SEEK_10:
    case C.SYNCHRONIZE_CACHE:
    case C.SYNCHRONIZE_CACHE_16:
      return 0;
    case C.VERIFY_10:
    case C.VERIFY_12:
    case C.VERIFY_16:
      if ((buf[1]! & 2) === 0) xfer = 0;
      else if ((buf[1]! & 4) !== 0) xfer = 1;
      return xfer * blocksize;
    case C.MODE_SENSE:
      return xfer;
    case C.WRITE_SAME_10:
    case C.WRITE_SAME_16:
      return buf[1]! & 1 ? 0 : blocksize;
    case C.READ_CAPACITY_10:
      return 8;
    case C.WRITE_6:
    case C.READ_6:
      return (xfer === 0 ? 256 : xfer) * blocksize;
    case C.WRITE_10:
    case C.WRITE_VERIFY_10:
    case C.WRITE_12:
    case C.WRITE_VERIFY_12:
    case C.WRITE_16:
    case C.WRITE_VERIFY_16:
    case C.READ_10:
    case C.READ_12:
    case C.READ_16:
      return xfer * blocksize;
    case C.FORMAT_UNIT:
      if (devType === C.TYPE_ROM && buf[1]! & 16) return 12;
      return (buf[1]! & 16) === 0 ? 0 : buf[1]! & 32 ? 8 : 4;
    case C.INQUIRY:
      return buf[4]! | (buf[3]! << 8);
    case C.MECHANISM_STATUS:
    case C.READ_DVD_STRUCTURE:
      return devType === C.TYPE_ROM ? buf[9]! | (buf[8]! << 8) : xfer;
    default:
      return xfer;
  }
}

const TO_DEV = new Set([
  C.WRITE_6,
  C.WRITE_10,
  C.WRITE_VERIFY_10,
  C.WRITE_12,
  C.WRITE_VERIFY_12,
  C.WRITE_16,
  C.WRITE_VERIFY_16,
  C.VERIFY_10,
  C.VERIFY_12,
  C.VERIFY_16,
  C.MODE_SELECT,
  C.MODE_SELECT_10,
  C.FORMAT_UNIT,
  C.WRITE_SAME_10,
  C.WRITE_SAME_16,
  C.UNMAP,
]);

/**
 * scsi_req_parse_cdb(): null when the CDB is shorter than its opcode group requires (or a vendor
 * group); the HBA then fails the command with INVALID OPCODE.
 */
export function scsiParseCdb(cdb: Uint8Array, blocksize: number, devType: number): SCSICommand | null {
  if (cdb.length === 0) return null;
  const len = scsiCdbLength(cdb[0]!);
  if (len < 0 || len > cdb.length) return null;
  const buf = new Uint8Array(Math.max(C.SCSI_CMD_BUF_SIZE, len));
  buf.set(cdb.subarray(0, len));
  const xfer = xferBytes(buf, blocksize, devType);
  const mode: XferMode = xfer === 0 ? 'none' : TO_DEV.has(buf[0]!) ? 'to-dev' : 'from-dev';
  return { buf, len, xfer, mode, lba: scsiCmdLba(buf) };
}
