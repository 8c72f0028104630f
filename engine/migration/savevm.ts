/**
 * The migration stream (QEMU's migration/savevm.c): header, configuration, sections, EOF and the JSON
 * description, written and read exactly in QEMU's layout:
 *
 *   u32 QEVM magic, u32 version 3
 *   QEMU_VM_CONFIGURATION, u32 length + machine type name
 *   per live section (RAM):     SECTION_START (id, name, instance, version, data, footer),
 *                               SECTION_PART (id, data, footer)..., SECTION_END (id, data, footer)
 *   per device/other section:   SECTION_FULL (id, name, instance, version, data, footer)
 *   QEMU_VM_EOF
 *   QEMU_VM_VMDESCRIPTION, u32 length, JSON {"page_size": 4096, "devices": [...]}
 * Each footer is QEMU_VM_SECTION_FOOTER and the section id again.
 *
 * Loading checks everything QEMU checks, with its error texts, and is transactional: every section
 * is backed up (devices: their saved bytes; RAM: a copy of each block before its first write) before
 * it is loaded, and any failure restores all of them, so a refused stream leaves the machine as it
 * was. (QEMU does not promise that: it leaves a half-loaded VM paused.)
 */
import { objectDynamicCast } from '../qom/object.js';
import { qdevGetMachine } from '../hw/core/qdev-core.js';
import { MACHINE_GET_CLASS, TYPE_MACHINE } from '../hw/core/machine.js';
import { QemuFileReader, QemuFileWriter } from './qemu-file.js';
import { EINVAL, ENOTSUP, EIO, MigrationError, isMigrationError } from './migration-error.js';
import {
  findSe,
  registerSavevmLive,
  savevmHandlers,
  seIsActive,
  vmstateRegister,
  type LoadSession,
  type SaveStateEntry,
} from './register.js';
import {
  vmdescToJson,
  vmstateLoadFromBytes,
  vmstateLoadState,
  vmstateSaveState,
  vmstateSaveToBytes,
  type VmdescObject,
  type VmdescValue,
} from './vmstate.js';
import { migratableRam, ramMigInit } from './ram.js';
import { vmstateTimers, timersState } from '../system/virtual-clock.js';
import { globalState, vmstateGlobalState } from './global-state.js';
import { TARGET_PAGE_SIZE } from '../system/physmem.js';
import type { VMStateDescription } from './vmstate-types.js';

export const QEMU_VM_FILE_MAGIC = 0x5145564d;
export const QEMU_VM_FILE_VERSION_COMPAT = 0x00000002;
export const QEMU_VM_FILE_VERSION = 0x00000003;

export const QEMU_VM_EOF = 0x00;
export const QEMU_VM_SECTION_START = 0x01;
export const QEMU_VM_SECTION_PART = 0x02;
export const QEMU_VM_SECTION_END = 0x03;
export const QEMU_VM_SECTION_FULL = 0x04;
export const QEMU_VM_SUBSECTION = 0x05;
export const QEMU_VM_VMDESCRIPTION = 0x06;
export const QEMU_VM_CONFIGURATION = 0x07;
export const QEMU_VM_COMMAND = 0x08;
export const QEMU_VM_SECTION_FOOTER = 0x7e;

// -------------------------------------------------------------------------------------------------
// Non-device sections, registered in QEMU's order so section ids match its streams: "timer" (0),
// "block" (1, never active here), "ram" (2), "dirty-bitmap" (3, never active), "globalstate" (4).

const inactive = {
  isActive: () => false,
  saveSetup: () => {},
  saveIterate: () => false,
  saveComplete: () => {},
  load: () => {},
};

let globalsRegistered = false;

/** Register the machine-independent sections (idempotent; called on import). */
export function savevmRegisterGlobalSections(): void {
  if (globalsRegistered) return;
  globalsRegistered = true;
  vmstateRegister(null, 0, vmstateTimers, timersState);
  registerSavevmLive('block', 0, 1, inactive);
  ramMigInit();
  registerSavevmLive('dirty-bitmap', 0, 1, inactive);
  vmstateRegister(null, 0, vmstateGlobalState, globalState);
}

/** Forget that the global sections are registered (after a registry reset in tests). */
export function savevmGlobalSectionsForgotten(): void {
  globalsRegistered = false;
}

savevmRegisterGlobalSections();

// -------------------------------------------------------------------------------------------------
// Configuration section

/** The machine type name (QEMU's MACHINE_GET_CLASS(current_machine)->name). */
export function currentMachineType(): string {
  const m = qdevGetMachine();
  return objectDynamicCast(m, TYPE_MACHINE) ? MACHINE_GET_CLASS(m).name : 'none';
}

const configuration = {
  len: 0,
  name: new Uint8Array(0),
};

const vmstateConfiguration: VMStateDescription = {
  name: 'configuration',
  versionId: 1,
  minimumVersionId: 0,
  fields: [
    { name: 'len', kind: 'uint32' },
    {
      name: 'name',
      kind: 'custom',
      info: {
        name: 'buffer',
        size: 0,
        put: (out, obj: typeof configuration) => out.bytes(obj.name),
        get: (inp, obj: typeof configuration) => void (obj.name = inp.bytes(obj.len).slice()),
      },
    },
  ],
  preSave(c: typeof configuration) {
    c.name = Buffer.from(currentMachineType(), 'latin1');
    c.len = c.name.length;
  },
  postLoad(c: typeof configuration) {
    const received = Buffer.from(c.name).toString('latin1');
    const local = currentMachineType();
    if (received !== local) {
      throw new MigrationError(EINVAL, `Machine type received is '${received}' and local is '${local}'`);
    }
  },
};

// -------------------------------------------------------------------------------------------------
// Save

function sectionHeader(f: QemuFileWriter, se: SaveStateEntry, type: number): void {
  f.u8(type);
  f.u32(se.sectionId);
  if (type === QEMU_VM_SECTION_START || type === QEMU_VM_SECTION_FULL) {
    f.str8(se.idstr);
    f.u32(se.instanceId);
    f.u32(se.versionId);
  }
}

function sectionFooter(f: QemuFileWriter, se: SaveStateEntry): void {
  f.u8(QEMU_VM_SECTION_FOOTER);
  f.u32(se.sectionId);
}

/** qemu_savevm_state_blocked(): refuse when a device cannot migrate. */
export function savevmStateBlocked(): void {
  for (const se of savevmHandlers()) {
    if (se.vmsd?.unmigratable) {
      throw new MigrationError(EINVAL, `State blocked by non-migratable device '${se.idstr}'`);
    }
  }
}

export interface SaveOptions {
  /** Leave out the JSON description (QEMU's -machine suppress-vmdesc). */
  suppressVmdesc?: boolean;
}

/**
 * qemu_savevm_state(): the whole machine as one stream. The VM must be stopped (nothing may change
 * between sections).
 */
export function qemuSavevmState(opts: SaveOptions = {}): Uint8Array {
  savevmStateBlocked();
  const f = new QemuFileWriter(1 << 20);
  f.u32(QEMU_VM_FILE_MAGIC);
  f.u32(QEMU_VM_FILE_VERSION);
  f.u8(QEMU_VM_CONFIGURATION);
  vmstateSaveState(f, vmstateConfiguration, configuration);

  const list = savevmHandlers().filter(seIsActive);
  const live = list.filter((se) => se.ops);
  for (const se of live) {
    sectionHeader(f, se, QEMU_VM_SECTION_START);
    se.ops!.saveSetup(f);
    sectionFooter(f, se);
  }
  for (const se of live) {
    // The PART payload is built first: QEMU sends no PART when there is nothing to iterate.
    const part = new QemuFileWriter(1 << 16);
    if (se.ops!.saveIterate(part)) {
      sectionHeader(f, se, QEMU_VM_SECTION_PART);
      f.bytes(part.data());
      sectionFooter(f, se);
    }
  }
  for (const se of live) {
    sectionHeader(f, se, QEMU_VM_SECTION_END);
    se.ops!.saveComplete(f);
    sectionFooter(f, se);
  }

  const devices: VmdescValue[] = [];
  for (const se of list) {
    if (!se.vmsd) continue;
    const d: VmdescObject = { name: se.idstr, instance_id: se.instanceId };
    sectionHeader(f, se, QEMU_VM_SECTION_FULL);
    vmstateSaveState(f, se.vmsd, se.opaque, d);
    sectionFooter(f, se);
    devices.push(d);
  }
  f.u8(QEMU_VM_EOF);
  if (!opts.suppressVmdesc) {
    const json = Buffer.from(vmdescToJson({ page_size: TARGET_PAGE_SIZE, devices }), 'utf8');
    f.u8(QEMU_VM_VMDESCRIPTION);
    f.u32(json.length);
    f.bytes(json);
  }
  return f.data().slice();
}

// -------------------------------------------------------------------------------------------------
// Load

export interface LoadOptions {
  /**
   * Reset the machine before loading (QEMU's load_snapshot does qemu_system_reset first, so state
   * that the stream leaves out, such as subsections that were not needed, takes reset values).
   */
  resetFirst?: () => void;
}

export interface LoadResult {
  /** Sections loaded, by id string (for tests and stats). */
  sections: string[];
  /** The JSON description, if the stream had one. */
  vmdesc: string | null;
}

class Session implements LoadSession {
  readonly undo: Array<() => void> = [];
  readonly backedUp = new Set<SaveStateEntry>();
  onRollback(fn: () => void): void {
    this.undo.push(fn);
  }
  /** Save a device section's current bytes before it is overwritten. */
  backup(se: SaveStateEntry): void {
    if (!se.vmsd || this.backedUp.has(se)) return;
    this.backedUp.add(se);
    const vmsd = se.vmsd;
    const bytes = vmstateSaveToBytes(vmsd, se.opaque, true);
    this.undo.push(() => vmstateLoadFromBytes(vmsd, se.opaque, bytes));
  }
  /** Undo everything; a step that fails (a post_load refusing the old state) does not stop the rest. */
  rollback(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) {
      try {
        this.undo[i]!();
      } catch {
        // The fields are restored before post_load runs; nothing more can be done for this section.
      }
    }
  }
}

function checkFooter(f: QemuFileReader, se: SaveStateEntry, loadSectionId: number): void {
  if (f.atEnd()) {
    throw new MigrationError(EINVAL, `check_section_footer: Read section footer failed: -${EIO}`);
  }
  const mark = f.u8();
  if (mark !== QEMU_VM_SECTION_FOOTER)
    throw new MigrationError(EINVAL, `Missing section footer for ${se.idstr}`);
  if (f.remaining < 4) {
    throw new MigrationError(EINVAL, `check_section_footer: Read section footer failed: -${EIO}`);
  }
  const id = f.u32();
  if (id !== loadSectionId) {
    throw new MigrationError(
      EINVAL,
      `Mismatched section id in footer for ${se.idstr} - read 0x${id.toString(16)} expected 0x${loadSectionId.toString(16)}`,
    );
  }
}

function loadSection(f: QemuFileReader, se: SaveStateEntry, versionId: number, session: Session): void {
  if (se.vmsd) {
    session.backup(se);
    vmstateLoadState(f, se.vmsd, se.opaque, versionId);
  } else {
    se.ops!.load(f, versionId, session);
  }
}

/** The body of qemu_loadvm_state(): throws a MigrationError; changes are undone by the caller. */
function loadvmStateMain(f: QemuFileReader, session: Session, result: LoadResult): void {
  if (f.remaining < 4 || f.u32() !== QEMU_VM_FILE_MAGIC) {
    throw new MigrationError(EINVAL, 'Not a migration stream');
  }
  const v = f.remaining < 4 ? 0 : f.u32();
  if (v === QEMU_VM_FILE_VERSION_COMPAT) {
    throw new MigrationError(ENOTSUP, "SaveVM v2 format is obsolete and don't work anymore");
  }
  if (v !== QEMU_VM_FILE_VERSION) throw new MigrationError(ENOTSUP, 'Unsupported migration stream version');
  if (f.u8() !== QEMU_VM_CONFIGURATION) throw new MigrationError(EINVAL, 'Configuration section missing');
  vmstateLoadState(f, vmstateConfiguration, configuration, 0);

  /** Sections started in this stream, by the stream's section id (mis->loadvm_handlers). */
  const started = new Map<number, SaveStateEntry>();
  for (;;) {
    const type = f.u8();
    switch (type) {
      case QEMU_VM_SECTION_START:
      case QEMU_VM_SECTION_FULL: {
        const sectionId = f.u32();
        let idstr: string;
        try {
          idstr = f.str8();
        } catch (e) {
          if (isMigrationError(e))
            throw new MigrationError(EINVAL, `Unable to read ID string for section ${sectionId}`);
          throw e;
        }
        const instanceId = f.u32();
        const versionId = f.u32();
        const se = findSe(idstr, instanceId);
        if (!se || !seIsActive(se)) {
          throw new MigrationError(
            EINVAL,
            `Unknown savevm section or instance '${idstr}' ${instanceId}. Make sure that your current VM setup matches your saved VM setup, including any hotplugged devices`,
          );
        }
        if (versionId > se.versionId) {
          throw new MigrationError(
            EINVAL,
            `savevm: unsupported version ${versionId} for '${idstr}' v${se.versionId}`,
          );
        }
        started.set(sectionId, se);
        try {
          loadSection(f, se, versionId, session);
        } catch (e) {
          if (isMigrationError(e)) {
            throw e.report(
              `error while loading state for instance 0x${instanceId.toString(16)} of device '${idstr}'`,
            );
          }
          throw e;
        }
        checkFooter(f, se, sectionId);
        result.sections.push(se.idstr);
        break;
      }
      case QEMU_VM_SECTION_PART:
      case QEMU_VM_SECTION_END: {
        const sectionId = f.u32();
        const se = started.get(sectionId);
        if (!se) throw new MigrationError(EINVAL, `Unknown savevm section ${sectionId}`);
        try {
          if (se.ops) se.ops.load(f, se.versionId, session);
          else loadSection(f, se, se.versionId, session);
        } catch (e) {
          if (isMigrationError(e))
            throw e.report(`error while loading state section id ${sectionId}(${se.idstr})`);
          throw e;
        }
        checkFooter(f, se, sectionId);
        break;
      }
      case QEMU_VM_EOF:
        if (f.peek8() === QEMU_VM_VMDESCRIPTION && f.remaining >= 5) {
          f.u8();
          const len = f.u32();
          if (f.remaining >= len) result.vmdesc = Buffer.from(f.bytes(len)).toString('utf8');
        }
        return;
      default:
        throw new MigrationError(EINVAL, `Unknown savevm section type ${type}`);
    }
  }
}

/** A loaded stream not yet committed: the caller finishes its own work, then commits or rolls back. */
export interface LoadTransaction {
  result: LoadResult;
  /** Keep the loaded state (load-done hooks and load notifiers run). */
  commit(): void;
  /** Put the machine back as it was before the load. */
  rollback(): void;
}

/**
 * qemu_loadvm_state() in two steps: the stream is loaded (a refused one is undone at once and its
 * MigrationError rethrown), and the machine keeps it only on commit(). loadvm uses the gap to
 * revert the disks; if that fails, rollback() leaves the machine as before the call.
 */
export function qemuLoadvmStateBegin(stream: Uint8Array, opts: LoadOptions = {}): LoadTransaction {
  const f = new QemuFileReader(stream);
  const session = new Session();
  const result: LoadResult = { sections: [], vmdesc: null };
  const liveOps = savevmHandlers().filter((se) => se.ops);
  const undo = (): void => {
    session.rollback();
    for (const se of liveOps) se.ops!.loadDone?.(false);
  };
  try {
    if (opts.resetFirst) {
      // The reset may change any device and RAM (ROM reloads): back up everything before it.
      for (const se of savevmHandlers()) session.backup(se);
      for (const b of migratableRam()) {
        const blk = b.block;
        const copy = blk.u8.slice();
        session.onRollback(() => blk.u8.set(copy));
      }
      opts.resetFirst();
    }
    loadvmStateMain(f, session, result);
  } catch (e) {
    undo();
    throw e;
  }
  let done = false;
  return {
    result,
    commit() {
      if (done) return;
      done = true;
      for (const se of liveOps) se.ops!.loadDone?.(true);
      for (const fn of [...loadNotifiers]) fn();
    },
    rollback() {
      if (done) return;
      done = true;
      undo();
    },
  };
}

/**
 * qemu_loadvm_state(): load a whole stream into the machine. On any error every change is undone
 * and the MigrationError is rethrown (the machine is as before the call).
 */
export function qemuLoadvmState(stream: Uint8Array, opts: LoadOptions = {}): LoadResult {
  const tx = qemuLoadvmStateBegin(stream, opts);
  tx.commit();
  return tx.result;
}

const loadNotifiers = new Set<() => void>();

/**
 * Run `fn` after every successful load (QEMU's cpu_synchronize_all_post_init and friends): machines
 * re-derive state that spans devices here. Returns a remover.
 */
export function onVmstateLoaded(fn: () => void): () => void {
  loadNotifiers.add(fn);
  return () => loadNotifiers.delete(fn);
}

export { EINVAL, ENOTSUP, EIO };
