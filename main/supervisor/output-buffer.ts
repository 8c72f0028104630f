/** Bounded text buffers: the console scrollback and the engine's last output for crash reports. */

/** Keeps the last `limit` characters of a stream. */
export class TailBuffer {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}

  append(text: string): void {
    if (!text) return;
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
    if (this.size > this.limit) {
      const only = this.chunks[0]!.slice(this.size - this.limit);
      this.chunks = [only];
      this.size = only.length;
    }
  }

  toString(): string {
    return this.chunks.join('');
  }
}

/** The last `lines` lines of `text`, trimmed (what a crash report shows). */
export function lastLines(text: string, lines: number): string {
  const all = text.replace(/\r/g, '').split('\n');
  while (all.length && all[all.length - 1]!.trim() === '') all.pop();
  return all.slice(-lines).join('\n');
}
