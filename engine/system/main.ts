/** Entry point of the vmstudio-engine process (QEMU's softmmu/main.c + vl.c). */
export async function main(argv: string[]): Promise<number> {
  process.stderr.write(`vmstudio-engine: not built yet (${argv.join(' ')})\n`);
  return 1;
}
