import { describe, expect, it } from 'vitest';
import { CmdlineError, splitArgv, usageText, QEMU_OPTIONS } from './qemu-options.js';

describe('argv splitting', () => {
  it('accepts -opt and --opt and aliases, taking the next word as argument', () => {
    const p = splitArgv(['-M', 'none', '--m', '512M', '-S', '-machine', 'none']);
    expect(p.map((o) => [o.def.name, o.arg])).toEqual([
      ['machine', 'none'],
      ['m', '512M'],
      ['S', undefined],
      ['machine', 'none'],
    ]);
    expect(p[0]!.written).toBe('-M');
  });

  it("gives QEMU's errors for unknown options and missing arguments", () => {
    const err = (argv: string[]) => {
      try {
        splitArgv(argv);
      } catch (e) {
        const c = e as CmdlineError;
        return `${c.location}: ${c.message}`;
      }
      return 'no error';
    };
    expect(err(['-foo'])).toBe('-foo: invalid option');
    expect(err(['-m'])).toBe('-m: requires an argument');
    expect(err(['-S', '-device'])).toBe('-device: requires an argument');
  });

  it('documents every option in -h', () => {
    const text = usageText('vmstudio-engine');
    for (const o of QEMU_OPTIONS) expect(text).toContain(o.help.split('\n')[0]!);
  });
});
