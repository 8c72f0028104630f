/**
 * The engine's version, in the shapes clients expect. QMP clients (libvirt, python's qemu.qmp, our
 * own app) compare against QEMU's version to decide what the server speaks, so the greeting and
 * query-version report the QEMU release whose QMP interface we implement; `package` names us.
 */
export const VMSTUDIO_VERSION = '0.1.0';

/** The QEMU release whose QMP/command-line behaviour this engine matches. */
export const QEMU_COMPAT_VERSION = { major: 7, minor: 2, micro: 0 } as const;

export const ENGINE_PACKAGE = `vmstudio-engine ${VMSTUDIO_VERSION}`;

/** `-version` text (QEMU prints "QEMU emulator version X (package)" and a copyright line). */
export function versionText(): string {
  const { major, minor, micro } = QEMU_COMPAT_VERSION;
  return (
    `VM Studio engine version ${VMSTUDIO_VERSION} (QEMU ${major}.${minor}.${micro} compatible)\n` +
    'Copyright (c) 2026 the VM Studio developers\n'
  );
}
