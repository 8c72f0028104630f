/**
 * A readers/writer lock for async request paths (QEMU uses CoMutex/CoRwlock in coroutines): qcow2
 * lets guest reads run together but serializes anything that changes metadata, so an allocation is
 * never observed half-done by another request of the same process.
 */
export class AioRwLock {
  private readers = 0;
  private writer = false;
  private readonly queue: Array<{ write: boolean; wake: () => void }> = [];

  async read<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.release(false);
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.release(true);
    }
  }

  private acquire(write: boolean): Promise<void> {
    // FIFO fairness: a waiting writer blocks later readers.
    if (this.queue.length === 0 && !this.writer && (!write || this.readers === 0)) {
      if (write) this.writer = true;
      else this.readers++;
      return Promise.resolve();
    }
    return new Promise((wake) => this.queue.push({ write, wake }));
  }

  private release(write: boolean): void {
    if (write) this.writer = false;
    else this.readers--;
    while (this.queue.length && !this.writer) {
      const next = this.queue[0]!;
      if (next.write) {
        if (this.readers > 0) break;
        this.writer = true;
      } else {
        this.readers++;
      }
      this.queue.shift();
      next.wake();
    }
  }
}
