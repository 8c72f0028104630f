/** App entry: chooses Electron or web mode. */
export async function main(argv: string[]): Promise<void> {
  process.stderr.write(`VM Studio: not built yet (${argv.join(' ')})\n`);
}
