/**
 * Build the engine's QEMU-compatible command line from a library VM. The engine owns parsing; this side
 * only has to quote values the QEMU way (a ',' inside a value is written ',,').
 */
import type { Vm } from '../api/contract.js';

/** QEMU option syntax: a literal comma inside a value is doubled. */
export function escapeOptionValue(v: string): string {
  return v.replace(/,/g, ',,');
}

export interface EnginePaths {
  /** QMP control socket (unix socket path or Windows pipe name). */
  qmpSocket: string;
  /** Folder for the VM's savevm snapshots (`-snapshot-store`); the engine's default when absent. */
  snapshotStore?: string;
}

export function buildEngineArgs(vm: Vm, paths: EnginePaths): string[] {
  const args: string[] = [
    '-name',
    escapeOptionValue(vm.name),
    '-M',
    escapeOptionValue(vm.machine),
    '-smp',
    String(vm.cpus),
    '-m',
    `${vm.memoryMiB}M`,
    '-nodefaults',
    '-display',
    'none',
  ];
  // The serial console is the engine's stdin/stdout: the supervisor streams it to the UI. The empty
  // `none` machine has no serial port to connect.
  if (vm.machine !== 'none') args.push('-serial', 'stdio');
  if (vm.firmware) args.push('-bios', vm.firmware);
  if (vm.kernel) args.push('-kernel', vm.kernel);
  if (vm.initrd) args.push('-initrd', vm.initrd);
  if (vm.append) args.push('-append', vm.append);
  // A virtio disk is a backend-only -drive plus an explicit virtio-blk-device: `if=virtio` would ask
  // for QEMU's PCI default (virtio-blk-pci), and the virt board's virtio transports are virtio-mmio.
  // Disk devices come before the user's, so the guest sees them as vda, vdb, ... in order.
  const diskDevices: string[] = [];
  vm.disks.forEach((d, i) => {
    const virtio = d.interface === 'virtio';
    const opts = [
      `file=${escapeOptionValue(d.file)}`,
      `format=${d.format}`,
      `if=${virtio ? 'none' : d.interface}`,
      `id=disk${i}`,
      `node-name=${diskNodeName(i)}`,
    ];
    if (d.readonly) opts.push('readonly=on');
    args.push('-drive', opts.join(','));
    // The empty `none` machine has no virtio transport: its disks are block nodes only.
    if (virtio && vm.machine !== 'none') diskDevices.push(`virtio-blk-device,drive=disk${i}`);
  });
  // Host channels before the devices whose chardev= names them.
  for (const chr of vm.chardevs) args.push('-chardev', chr);
  for (const dev of [...diskDevices, ...vm.devices]) args.push('-device', dev);
  // A plain path argument (not an option string): no comma escaping.
  if (paths.snapshotStore) args.push('-snapshot-store', paths.snapshotStore);
  args.push('-qmp', `unix:${escapeOptionValue(paths.qmpSocket)},server=on,wait=off`);
  return args;
}

/**
 * The block node name of a VM's i-th disk. Snapshot jobs name disks by node (as QEMU's
 * snapshot-save does), and a -drive id is not a node name, so the command line sets one.
 */
export function diskNodeName(i: number): string {
  return `disk${i}-node`;
}
