// Keeps the newest output of one generation within a byte bound (README, "How it works").

export class RingBuffer {
  private chunks: string[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly limit = 256 * 1024) {}

  push(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
      this.dropped = true;
    }
    // One chunk alone over the limit (a huge write) keeps only its newest part.
    if (this.size > this.limit) {
      this.chunks[0] = this.chunks[0].slice(this.size - this.limit);
      this.size = this.limit;
      this.dropped = true;
    }
  }

  text(): string {
    return (this.dropped ? '[… older output dropped …]\n' : '') + this.chunks.join('');
  }

  /** The last `count` lines, for the "no live generation" page. */
  tail(count: number): string {
    const lines = this.chunks.join('').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-count).join('\n');
  }
}
