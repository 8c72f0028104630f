/**
 * The engine's command line against the texts Debian's QEMU 7.2 prints for the same mistakes
 * (collected with qemu-system-riscv64; the program name differs, the rest must not).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { runEngine, ENGINE_BIN } from '../helpers/engine-process.js';

const SIZE_HINT =
  'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n';

const cases: Array<[string[], string]> = [
  [['-foo'], 'vmstudio-engine: -foo: invalid option\n'],
  [['-M', 'none', '-m'], 'vmstudio-engine: -m: requires an argument\n'],
  [
    ['-M', 'none', '-m', 'foo'],
    `vmstudio-engine: -m foo: Parameter 'size' expects a non-negative number below 2^64\n${SIZE_HINT}`,
  ],
  [
    ['-M', 'none', '-m', '99999999999999999999'],
    "vmstudio-engine: -m 99999999999999999999: Value '99999999999999999999' is out of range for parameter 'size'\n",
  ],
  [
    ['-M', 'none', '-m', 'size=512M,bogus=1'],
    "vmstudio-engine: -m size=512M,bogus=1: Invalid parameter 'bogus'\n",
  ],
  [['-M', 'none', '-m', '512M,slots=2'], 'vmstudio-engine: slots specified but no max-size\n'],
  [['-M', 'none', '-smp', 'foo'], "vmstudio-engine: Parameter 'smp.cpus' expects integer\n"],
  [['-M', 'none', '-smp', 'cpus=2,cores=x'], "vmstudio-engine: Parameter 'smp.cores' expects integer\n"],
  [
    ['-M', 'foo'],
    'vmstudio-engine: unsupported machine type\nUse -machine help to list supported machines\n',
  ],
  [['-M', 'none,bogus=1'], "vmstudio-engine: Property 'none-machine.bogus' not found\n"],
  [
    ['-M', 'none,accel=tcg,dumpdtb'],
    "vmstudio-engine: -M none,accel=tcg,dumpdtb: Expected '=' after parameter 'dumpdtb'\n",
  ],
  [['-M', 'none', '-name', 'a,b=c'], "vmstudio-engine: -name a,b=c: Invalid parameter 'b'\n"],
  [
    ['-M', 'none', '-name', 'foo,bogus'],
    "vmstudio-engine: -name foo,bogus: warning: short-form boolean option 'bogus' deprecated\nPlease use bogus=on instead\n" +
      "vmstudio-engine: -name foo,bogus: Invalid parameter 'bogus'\n",
  ],
  [['-M', 'none', '-device'], 'vmstudio-engine: -device: requires an argument\n'],
  [
    ['-M', 'none', '-device', 'foo'],
    "vmstudio-engine: -device foo: 'foo' is not a valid device model name\n",
  ],
  [
    ['-M', 'none', '-device', 'x-foo,id=1a'],
    "vmstudio-engine: -device x-foo,id=1a: Parameter 'id' expects an identifier\n" +
      "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n",
  ],
  [
    ['-M', 'none', '-object', 'foo'],
    "vmstudio-engine: -object foo: Parameter 'qom-type' does not accept value 'foo'\n",
  ],
  [
    ['-M', 'none', '-object', 'rng-random'],
    "vmstudio-engine: -object rng-random: Parameter 'id' is missing\n",
  ],
  [
    ['-M', 'none', '-object', 'rng-random,id=1x'],
    "vmstudio-engine: -object rng-random,id=1x: Parameter 'id' expects an identifier\n" +
      "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n",
  ],
  [['-M', 'none', '-chardev', 'foo'], 'vmstudio-engine: -chardev foo: chardev: no id specified\n'],
  [
    ['-M', 'none', '-qmp', 'foo'],
    "vmstudio-engine: -qmp foo: 'foo' is not a valid char driver\nvmstudio-engine: -qmp foo: parse error: foo\n",
  ],
];

describe('vmstudio-engine command line', () => {
  it.each(cases)('%j fails like QEMU', async (args, stderr) => {
    const r = await runEngine(args);
    expect(r.stderr).toBe(stderr);
    expect(r.code).toBe(1);
  });

  it('prints help, version, machine and device lists and exits 0', async () => {
    const help = await runEngine(['-h']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: vmstudio-engine \[options\]\n/);
    expect(help.stdout).toContain('-device driver[,prop[=value][,...]]');
    const version = await runEngine(['-version']);
    expect(version.stdout).toMatch(/^VM Studio engine version \S+ \(QEMU 7\.2\.\d+ compatible\)\n/);
    const machines = await runEngine(['-M', 'help']);
    expect(machines.stdout).toMatch(/^Supported machines are:\n/);
    expect(machines.stdout).toContain('\nnone                 empty machine\n');
    const devices = await runEngine(['-M', 'none', '-device', 'help']);
    expect(devices.stdout).toContain('name "vmstudio-test-device", bus vmstudio-test-bus');
    const props = await runEngine(['-M', 'none', '-device', 'vmstudio-test-device,help']);
    expect(props.stdout).toMatch(/^vmstudio-test-device options:\n/);
    expect(props.stdout).toContain('  u32=<uint32>');
  });

  it('runs QMP on stdio and exits with quit, processing piped commands in order', async () => {
    const r = await runEngine(
      ['-M', 'none', '-m', '512M', '-smp', '1', '-name', 'guest=demo,,1', '-S', '-qmp', 'stdio'],
      [
        '{"execute": "qmp_capabilities"}',
        '{"execute": "query-status", "id": 1}',
        '{"execute": "qom-get", "arguments": {"path": "/machine", "property": "memory"}, "id": 2}',
        '{"execute": "query-name", "id": 3}',
        '{"execute": "quit", "id": 4}',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\r\n')
      .map((l) => JSON.parse(l));
    const byId = new Map(lines.filter((l) => 'id' in l).map((l) => [l.id, l]));
    expect(byId.get(1).return).toEqual({ status: 'prelaunch', singlestep: false, running: false });
    expect(byId.get(2).return).toEqual({ size: 512 * 1024 * 1024 });
    expect(byId.get(3).return).toEqual({ name: 'demo,1' });
    expect(byId.get(4).return).toEqual({});
    expect(lines.some((l) => l.event === 'SHUTDOWN' && l.data.reason === 'host-qmp-quit')).toBe(true);
  });

  it('keeps running with nothing attached until a signal, then says why it stops', async () => {
    const child = spawn(process.execPath, [ENGINE_BIN, '-M', 'none', '-display', 'none'], { stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r('alive'), 1500))]);
    expect(early).toBe('alive');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('vmstudio-engine: terminating on signal 15\n');
  });
});
