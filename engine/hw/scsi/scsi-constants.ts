/**
 * SCSI numbers (QEMU's include/scsi/constants.h and scsi/utils.c): opcodes, status bytes, device
 * types and the sense codes the emulated targets report. A sense code is (key, ASC, ASCQ); the
 * names follow QEMU's SENSE_CODE(...) table so code reads the same as the reference.
 */

// Opcodes (SPC/SBC/MMC) -------------------------------------------------------------------------------
export const TEST_UNIT_READY = 0x00;
export const REQUEST_SENSE = 0x03;
export const FORMAT_UNIT = 0x04;
export const READ_6 = 0x08;
export const WRITE_6 = 0x0a;
export const INQUIRY = 0x12;
export const MODE_SELECT = 0x15;
export const RESERVE = 0x16;
export const RELEASE = 0x17;
export const MODE_SENSE = 0x1a;
export const START_STOP = 0x1b;
export const ALLOW_MEDIUM_REMOVAL = 0x1e;
export const READ_CAPACITY_10 = 0x25;
export const READ_10 = 0x28;
export const WRITE_10 = 0x2a;
export const SEEK_10 = 0x2b;
export const WRITE_VERIFY_10 = 0x2e;
export const VERIFY_10 = 0x2f;
export const SYNCHRONIZE_CACHE = 0x35;
export const WRITE_SAME_10 = 0x41;
export const UNMAP = 0x42;
export const READ_TOC = 0x43;
export const GET_CONFIGURATION = 0x46;
export const GET_EVENT_STATUS_NOTIFICATION = 0x4a;
export const READ_DISC_INFORMATION = 0x51;
export const MODE_SELECT_10 = 0x55;
export const RESERVE_10 = 0x56;
export const RELEASE_10 = 0x57;
export const MODE_SENSE_10 = 0x5a;
export const READ_16 = 0x88;
export const WRITE_16 = 0x8a;
export const WRITE_VERIFY_16 = 0x8e;
export const VERIFY_16 = 0x8f;
export const SYNCHRONIZE_CACHE_16 = 0x91;
export const WRITE_SAME_16 = 0x93;
export const SERVICE_ACTION_IN_16 = 0x9e;
export const REPORT_LUNS = 0xa0;
export const READ_12 = 0xa8;
export const WRITE_12 = 0xaa;
export const READ_DVD_STRUCTURE = 0xad;
export const WRITE_VERIFY_12 = 0xae;
export const VERIFY_12 = 0xaf;
export const MECHANISM_STATUS = 0xbd;

/** SERVICE ACTION IN(16) service action for READ CAPACITY(16). */
export const SAI_READ_CAPACITY_16 = 0x10;

// Status bytes -----------------------------------------------------------------------------------------
export const GOOD = 0x00;
export const CHECK_CONDITION = 0x02;
export const BUSY = 0x08;
export const TASK_SET_FULL = 0x28;

// Peripheral device types ---------------------------------------------------------------------------
export const TYPE_DISK = 0x00;
export const TYPE_ROM = 0x05;
/** Peripheral qualifier 011b: no device at this LUN. */
export const TYPE_NO_LUN = 0x7f;
export const TYPE_NOT_PRESENT = 0x1f;
export const TYPE_INACTIVE = 0x20;

// Sense keys -------------------------------------------------------------------------------------------
export const NO_SENSE = 0x00;
export const NOT_READY = 0x02;
export const MEDIUM_ERROR = 0x03;
export const HARDWARE_ERROR = 0x04;
export const ILLEGAL_REQUEST = 0x05;
export const UNIT_ATTENTION = 0x06;
export const DATA_PROTECT = 0x07;
export const ABORTED_COMMAND = 0x0b;

export interface SCSISense {
  key: number;
  asc: number;
  ascq: number;
}

const s = (key: number, asc: number, ascq: number): Readonly<SCSISense> => Object.freeze({ key, asc, ascq });

/** QEMU's sense_code_* table (the subset our targets report). */
export const SENSE_CODE = {
  NO_SENSE: s(NO_SENSE, 0x00, 0x00),
  LUN_NOT_READY: s(NOT_READY, 0x04, 0x03),
  NO_MEDIUM: s(NOT_READY, 0x3a, 0x00),
  NOT_READY_REMOVAL_PREVENTED: s(NOT_READY, 0x53, 0x02),
  TARGET_FAILURE: s(HARDWARE_ERROR, 0x44, 0x00),
  READ_ERROR: s(MEDIUM_ERROR, 0x11, 0x00),
  INVALID_OPCODE: s(ILLEGAL_REQUEST, 0x20, 0x00),
  LBA_OUT_OF_RANGE: s(ILLEGAL_REQUEST, 0x21, 0x00),
  INVALID_FIELD: s(ILLEGAL_REQUEST, 0x24, 0x00),
  INVALID_PARAM: s(ILLEGAL_REQUEST, 0x26, 0x00),
  INVALID_PARAM_LEN: s(ILLEGAL_REQUEST, 0x1a, 0x00),
  LUN_NOT_SUPPORTED: s(ILLEGAL_REQUEST, 0x25, 0x00),
  SAVING_PARAMS_NOT_SUPPORTED: s(ILLEGAL_REQUEST, 0x39, 0x00),
  INCOMPATIBLE_FORMAT: s(ILLEGAL_REQUEST, 0x30, 0x00),
  ILLEGAL_REQ_REMOVAL_PREVENTED: s(ILLEGAL_REQUEST, 0x53, 0x02),
  IO_ERROR: s(ABORTED_COMMAND, 0x00, 0x06),
  WRITE_PROTECTED: s(DATA_PROTECT, 0x27, 0x00),
  SPACE_ALLOC_FAILED: s(DATA_PROTECT, 0x27, 0x07),
  RESET: s(UNIT_ATTENTION, 0x29, 0x00),
  POWER_ON: s(UNIT_ATTENTION, 0x29, 0x01),
  SCSI_BUS_RESET: s(UNIT_ATTENTION, 0x29, 0x02),
  MEDIUM_CHANGED: s(UNIT_ATTENTION, 0x28, 0x00),
  UNIT_ATTENTION_NO_MEDIUM: s(UNIT_ATTENTION, 0x3a, 0x00),
  REPORTED_LUNS_CHANGED: s(UNIT_ATTENTION, 0x3f, 0x0e),
  CAPACITY_CHANGED: s(UNIT_ATTENTION, 0x2a, 0x09),
} as const;

/** Fixed-format sense length (SCSI_SENSE_LEN) and the device's sense buffer size. */
export const SCSI_SENSE_LEN = 18;
export const SCSI_SENSE_BUF_SIZE = 252;
/** Sense bytes kept in the main VMState section; the rest goes in a subsection (QEMU's layout). */
export const SCSI_SENSE_BUF_SIZE_OLD = 96;
/** CDB bytes a request keeps (SCSI_CMD_BUF_SIZE). */
export const SCSI_CMD_BUF_SIZE = 16;
export const SCSI_INQUIRY_LEN = 36;
