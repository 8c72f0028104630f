/**
 * Guest templates: ready-made VM recipes shipped under assets/guests/<id>/guest.json, with the
 * kernel, initrd and disk image next to the manifest. A template's disk is copied into each new VM's
 * folder, so VMs never share (or modify) the shipped image.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GuestTemplate } from '../api/contract.js';

export interface GuestManifest {
  id: string;
  title: string;
  description: string;
  machine: string;
  cpus: number;
  memoryMiB: number;
  kernel?: string;
  initrd?: string;
  firmware?: string;
  disk?: string;
  append?: string;
}

export interface ResolvedGuest extends GuestTemplate {
  kernel: string | null;
  initrd: string | null;
  firmware: string | null;
  disk: string | null;
  append: string | null;
}

function resolve(dir: string, m: GuestManifest): ResolvedGuest {
  const file = (f: string | undefined): string | null => (f ? path.resolve(dir, f) : null);
  const kernel = file(m.kernel);
  const initrd = file(m.initrd);
  const firmware = file(m.firmware);
  const disk = file(m.disk);
  const missing = [kernel, initrd, firmware, disk]
    .filter((f): f is string => f !== null && !fs.existsSync(f))
    .map((f) => path.basename(f));
  return {
    id: m.id,
    title: m.title,
    description: m.description,
    machine: m.machine,
    cpus: m.cpus,
    memoryMiB: m.memoryMiB,
    available: missing.length === 0,
    missing,
    kernel,
    initrd,
    firmware,
    disk,
    append: m.append ?? null,
  };
}

/** Every valid manifest under `guestsDir`, sorted by title; broken manifests are skipped. */
export function loadGuests(guestsDir: string): ResolvedGuest[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(guestsDir);
  } catch {
    return [];
  }
  const out: ResolvedGuest[] = [];
  for (const e of entries) {
    const dir = path.join(guestsDir, e);
    try {
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'guest.json'), 'utf8')) as GuestManifest;
      if (typeof m.id === 'string' && typeof m.title === 'string' && Number.isInteger(m.cpus))
        out.push(resolve(dir, m));
    } catch {
      // not a guest folder
    }
  }
  return out.sort((a, b) => a.title.localeCompare(b.title));
}

/** The template as the UI sees it (no host paths). */
export function publicGuest(g: ResolvedGuest): GuestTemplate {
  const { id, title, description, machine, cpus, memoryMiB, available, missing } = g;
  return { id, title, description, machine, cpus, memoryMiB, available, missing };
}
