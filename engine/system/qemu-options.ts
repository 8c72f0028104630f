/**
 * The command-line options the engine accepts (QEMU's qemu-options.hx, for what exists here).
 * One table drives argv splitting, `-h` and the dispatch in vl.ts, so an option cannot be accepted
 * without being documented or documented without being handled.
 */
export interface QemuOptionDef {
  /** Canonical name without the dash. */
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly hasArg: boolean;
  /** Section heading in `-h`. */
  readonly section:
    | 'Standard options'
    | 'Block device options'
    | 'Display options'
    | 'Character device options'
    | 'Linux/Multiboot boot specific'
    | 'Debug/Expert options';
  /** Usage synopsis and description lines, exactly as `-h` prints them. */
  readonly help: string;
}

export const QEMU_OPTIONS: readonly QemuOptionDef[] = [
  {
    name: 'h',
    aliases: ['help'],
    hasArg: false,
    section: 'Standard options',
    help: '-h or -help     display this help and exit',
  },
  {
    name: 'version',
    hasArg: false,
    section: 'Standard options',
    help: '-version        display version information and exit',
  },
  {
    name: 'machine',
    aliases: ['M'],
    hasArg: true,
    section: 'Standard options',
    help:
      '-machine [type=]name[,prop[=value][,...]]\n' +
      "                selects emulated machine ('-machine help' for list)\n" +
      '                property accel=tcg selects the accelerator (only tcg)',
  },
  {
    name: 'accel',
    hasArg: true,
    section: 'Standard options',
    help: '-accel [accel=]accelerator[,prop[=value][,...]]\n                select accelerator (tcg only)',
  },
  {
    name: 'cpu',
    hasArg: true,
    section: 'Standard options',
    help: "-cpu cpu        select CPU ('-cpu help' for list)",
  },
  {
    name: 'smp',
    hasArg: true,
    section: 'Standard options',
    help:
      '-smp [[cpus=]n][,maxcpus=maxcpus][,sockets=sockets][,dies=dies][,clusters=clusters][,cores=cores][,threads=threads]\n' +
      "                set the number of initial CPUs to 'n' [default=1]",
  },
  {
    name: 'm',
    hasArg: true,
    section: 'Standard options',
    help:
      '-m [size=]megs[,slots=n,maxmem=size]\n' +
      '                configure guest RAM\n' +
      '                size: initial amount of guest memory\n' +
      '                slots: number of hotplug slots (default: none)\n' +
      '                maxmem: maximum amount of guest memory (default: none)',
  },
  {
    name: 'name',
    hasArg: true,
    section: 'Standard options',
    help:
      '-name string1[,process=string2][,debug-threads=on|off]\n' +
      '                set the name of the guest\n' +
      '                string1 sets the window title and string2 the process name',
  },
  {
    name: 'uuid',
    hasArg: true,
    section: 'Standard options',
    help: '-uuid %08x-%04x-%04x-%04x-%012x\n                specify machine UUID',
  },
  {
    name: 'device',
    hasArg: true,
    section: 'Standard options',
    help:
      '-device driver[,prop[=value][,...]]\n' +
      '                add device (based on driver)\n' +
      '                prop=value,... sets driver properties\n' +
      "                use '-device help' to print all possible drivers\n" +
      "                use '-device driver,help' to print all possible properties",
  },
  {
    name: 'global',
    hasArg: true,
    section: 'Standard options',
    help: '-global driver.property=value\n-global driver=driver,property=property,value=value\n                set a global default for a driver property',
  },
  {
    name: 'object',
    hasArg: true,
    section: 'Standard options',
    help:
      '-object TYPENAME[,PROP1=VALUE1,...]\n' +
      '                create a new object of type TYPENAME setting properties\n' +
      "                in the order they are specified.  Note that the 'id'\n" +
      '                property must be set.  These objects are placed in the\n' +
      "                '/objects' path.",
  },
  {
    name: 'blockdev',
    hasArg: true,
    section: 'Block device options',
    help:
      '-blockdev [driver=]driver[,node-name=N][,discard=ignore|unmap]\n' +
      '          [,cache.direct=on|off][,cache.no-flush=on|off]\n' +
      '          [,read-only=on|off][,auto-read-only=on|off]\n' +
      '          [,force-share=on|off][,detect-zeroes=on|off|unmap]\n' +
      '          [,driver specific parameters...]\n' +
      '                configure a block backend (drivers: file, raw, qcow2)',
  },
  {
    name: 'drive',
    hasArg: true,
    section: 'Block device options',
    help:
      '-drive [file=file][,if=type][,bus=n][,unit=m][,media=d][,index=i]\n' +
      '       [,cache=writethrough|writeback|none|directsync|unsafe][,format=f]\n' +
      '       [,snapshot=on|off][,rerror=ignore|stop|report]\n' +
      '       [,werror=ignore|stop|report|enospc][,id=name]\n' +
      '       [,aio=threads|native|io_uring]\n' +
      '       [,readonly=on|off][,discard=ignore|unmap][,detect-zeroes=on|off|unmap]\n' +
      "                use 'file' as a drive image (if=none or if=virtio)",
  },
  {
    name: 'snapshot',
    hasArg: false,
    section: 'Block device options',
    help: '-snapshot       write to temporary files instead of disk image files',
  },
  {
    name: 'nographic',
    hasArg: false,
    section: 'Display options',
    help: '-nographic      disable graphical output and redirect serial I/Os to console',
  },
  {
    name: 'display',
    hasArg: true,
    section: 'Display options',
    help: '-display none\n                select display backend type (only none)',
  },
  {
    name: 'chardev',
    hasArg: true,
    section: 'Character device options',
    help:
      '-chardev help\n' +
      '-chardev null,id=id[,mux=on|off][,logfile=PATH][,logappend=on|off]\n' +
      '-chardev socket,id=id[,host=host],port=port[,to=to][,ipv4=on|off][,ipv6=on|off][,nodelay=on|off]\n' +
      '         [,server=on|off][,wait=on|off][,telnet=on|off][,reconnect=seconds][,mux=on|off]\n' +
      '-chardev socket,id=id,path=path[,server=on|off][,wait=on|off][,telnet=on|off][,reconnect=seconds]\n' +
      '-chardev file,id=id,path=path[,mux=on|off][,logfile=PATH][,logappend=on|off]\n' +
      '-chardev ringbuf,id=id[,size=size][,logfile=PATH][,logappend=on|off]\n' +
      '-chardev stdio,id=id[,mux=on|off][,signal=on|off][,logfile=PATH][,logappend=on|off]',
  },
  {
    name: 'kernel',
    hasArg: true,
    section: 'Linux/Multiboot boot specific',
    help: "-kernel bzImage use 'bzImage' as kernel image",
  },
  {
    name: 'append',
    hasArg: true,
    section: 'Linux/Multiboot boot specific',
    help: "-append cmdline use 'cmdline' as kernel command line",
  },
  {
    name: 'initrd',
    hasArg: true,
    section: 'Linux/Multiboot boot specific',
    help: "-initrd file    use 'file' as initial ram disk",
  },
  {
    name: 'dtb',
    hasArg: true,
    section: 'Linux/Multiboot boot specific',
    help: "-dtb    file    use 'file' as device tree image",
  },
  {
    name: 'qmp',
    hasArg: true,
    section: 'Debug/Expert options',
    help: "-qmp dev        like -monitor but opens in 'control' mode",
  },
  {
    name: 'qmp-pretty',
    hasArg: true,
    section: 'Debug/Expert options',
    help: '-qmp-pretty dev like -qmp but uses pretty JSON formatting',
  },
  {
    name: 'mon',
    hasArg: true,
    section: 'Debug/Expert options',
    help: '-mon [chardev=]name[,mode=readline|control][,pretty[=on|off]]',
  },
  {
    name: 'monitor',
    hasArg: true,
    section: 'Debug/Expert options',
    help: "-monitor dev    redirect the monitor to char device 'dev'",
  },
  {
    name: 'serial',
    hasArg: true,
    section: 'Debug/Expert options',
    help: "-serial dev     redirect the serial port to char device 'dev'",
  },
  {
    name: 'bios',
    hasArg: true,
    section: 'Debug/Expert options',
    help: '-bios file      set the filename for the BIOS',
  },
  {
    name: 'S',
    hasArg: false,
    section: 'Debug/Expert options',
    help: "-S              freeze CPU at startup (use 'c' to start execution)",
  },
  {
    name: 'incoming',
    hasArg: true,
    section: 'Debug/Expert options',
    help:
      '-incoming unix:socketpath\n' +
      '                prepare for incoming migration, listen on\n' +
      '                specified protocol and socket address\n' +
      '-incoming exec:cmdline\n' +
      '                accept incoming migration on standard output of cmdline\n' +
      '-incoming file:filename\n' +
      '                accept incoming migration from a file\n' +
      '-incoming defer\n' +
      '                wait for the URI to be specified via migrate_incoming',
  },
  {
    name: 'snapshot-store',
    hasArg: true,
    section: 'Debug/Expert options',
    help: '-snapshot-store dir\n                keep savevm snapshots of disk-less VMs in dir (without it, savevm needs a qcow2 disk, as in QEMU)',
  },
  {
    name: 'pidfile',
    hasArg: true,
    section: 'Debug/Expert options',
    help: "-pidfile file   write PID to 'file'",
  },
  {
    name: 'nodefaults',
    hasArg: false,
    section: 'Debug/Expert options',
    help: "-nodefaults     don't create default devices",
  },
  {
    name: 'no-shutdown',
    hasArg: false,
    section: 'Debug/Expert options',
    help: '-no-shutdown    stop before shutdown',
  },
  {
    name: 'no-reboot',
    hasArg: false,
    section: 'Debug/Expert options',
    help: '-no-reboot      exit instead of rebooting',
  },
];

const byName = new Map<string, QemuOptionDef>();
for (const o of QEMU_OPTIONS) {
  byName.set(o.name, o);
  for (const a of o.aliases ?? []) byName.set(a, o);
}

export function lookupOption(name: string): QemuOptionDef | undefined {
  return byName.get(name);
}

/** `-h` text in QEMU's layout. */
export function usageText(prog: string): string {
  let out = `usage: ${prog} [options]\n`;
  let section = '';
  for (const o of QEMU_OPTIONS) {
    if (o.section !== section) {
      section = o.section;
      out += `\n${section}:\n`;
    }
    out += o.help + '\n';
  }
  out +=
    '\nDuring emulation, the following keys are useful:\n' +
    'ctrl-alt-f      toggle full screen\n' +
    "\nWhen using -nographic, press 'ctrl-a h' to get some help.\n";
  return out;
}

export interface ParsedOption {
  readonly def: QemuOptionDef;
  /** As the user wrote it, for error locations ("-M", not "-machine"). */
  readonly written: string;
  readonly arg: string | undefined;
}

export class CmdlineError extends Error {
  constructor(
    readonly location: string,
    message: string,
  ) {
    super(message);
  }
}

/** Split argv into options, as vl.c's lookup_opt() does: `-opt` or `--opt`, argument in the next word. */
export function splitArgv(argv: readonly string[]): ParsedOption[] {
  const out: ParsedOption[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-')) {
      throw new CmdlineError(word, 'disk images as plain arguments are not supported; use -drive');
    }
    const written = word;
    const name = word.startsWith('--') ? word.slice(2) : word.slice(1);
    const def = byName.get(name);
    if (!def) throw new CmdlineError(written, 'invalid option');
    let arg: string | undefined;
    if (def.hasArg) {
      if (i + 1 >= argv.length) throw new CmdlineError(written, 'requires an argument');
      arg = argv[++i];
    }
    out.push({ def, written, arg });
  }
  return out;
}
