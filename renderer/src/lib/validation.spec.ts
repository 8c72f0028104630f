import { describe, expect, it } from 'vitest';
import { chardevError } from './validation.js';

describe('chardevError (the configuration list of host channels)', () => {
  it('accepts the backends this engine has, with an id', () => {
    expect(chardevError('socket,id=channel0,path=/tmp/c.sock,server=on,wait=off')).toBeNull();
    expect(chardevError('backend=file,id=log,path=/tmp/x')).toBeNull();
    expect(chardevError('ringbuf,id=rb')).toBeNull();
  });

  it('says what is wrong', () => {
    expect(chardevError('')).toMatch(/^Enter a chardev/);
    expect(chardevError('pty,id=p')).toBe(
      "'pty' is not a chardev backend this engine has (socket, file, null, ringbuf, memory).",
    );
    expect(chardevError('stdio,id=c')).toMatch(/serial console/);
    expect(chardevError('null')).toMatch(/^Give it an id/);
    expect(chardevError('null,id=9x')).toMatch(/is not an ID/);
    expect(chardevError('null,id=serial0')).toMatch(/engine's own/);
    expect(chardevError('null,id=a', ['a'])).toBe("A chardev with the id 'a' is already configured.");
  });
});
