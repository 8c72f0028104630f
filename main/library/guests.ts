/**
 * Guest templates: ready-made VM recipes described by assets/guests/<id>/guest.json. Their boot files
 * sit next to the manifest, or, with `buildsDir` (relative to the guest cache folder, see
 * `guestCacheRoot`), in the newest build a guest builder published there
 * (assets/guests/debian-riscv64/build.ts writes one folder per build with its own guest.json). A template's disk is copied into each new VM's folder, so VMs never share
 * (or modify) the shipped image.
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
  /** Folder of builds (relative to the guest cache folder); files are looked up in the newest build. */
  buildsDir?: string;
}

export interface ResolvedGuest extends GuestTemplate {
  kernel: string | null;
  initrd: string | null;
  firmware: string | null;
  disk: string | null;
  append: string | null;
}

/** The newest build folder (by its guest.json time) under `buildsDir`, or null if none is complete. */
export function newestBuild(buildsDir: string): string | null {
  let best: { dir: string; t: number } | null = null;
  let names: string[];
  try {
    names = fs.readdirSync(buildsDir);
  } catch {
    return null;
  }
  for (const n of names) {
    const dir = path.join(buildsDir, n);
    try {
      const t = fs.statSync(path.join(dir, 'guest.json')).mtimeMs;
      if (!best || t > best.t) best = { dir, t };
    } catch {
      // an incomplete build
    }
  }
  return best?.dir ?? null;
}

function resolve(dir: string, m: GuestManifest, cacheRoot: string): ResolvedGuest {
  if (m.buildsDir) {
    const build = newestBuild(path.resolve(cacheRoot, m.buildsDir));
    // Without a build the names still resolve (under the manifest) so `missing` can list them.
    if (build) dir = build;
  }
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

/**
 * Every valid manifest under `guestsDir`, sorted by title; broken manifests are skipped. Builds are
 * looked up under `cacheRoot`.
 */
export function loadGuests(guestsDir: string, cacheRoot: string): ResolvedGuest[] {
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
        out.push(resolve(dir, m, cacheRoot));
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
