/** The QEMU 7.2 reference files committed under tests/reference/ (see its README). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REFERENCE_DIR = fileURLToPath(new URL('../reference/qemu-7.2-riscv-virt/', import.meta.url));

export function referencePath(name: string): string {
  return REFERENCE_DIR + name;
}

export function readReference(name: string): string {
  return readFileSync(referencePath(name), 'utf8');
}
