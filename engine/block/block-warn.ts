/**
 * Where the block layer's warnings go (QEMU's error_report()/warn_report() from drivers, e.g.
 * "qcow2: Marking image as corrupt: ..."). The engine and vmstudio-img print them on stderr; tests
 * capture them.
 */
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setBlockWarningSink(fn: (line: string) => void): () => void {
  const prev = sink;
  sink = fn;
  return () => {
    sink = prev;
  };
}

export function blockWarn(line: string): void {
  sink(line);
}
