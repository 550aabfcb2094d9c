/**
 * At most `concurrency` tasks at once, at most `queueLimit` waiting; a task beyond both is refused
 * at once (run answers null). Lookups of tokens nobody has shown valid go through one of these, so
 * a flood of guesses, from one address or many, holds at most `concurrency` database connections
 * and valid clients keep the rest of the pool.
 */
export class LookupGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** The task's result, or null when both the slots and the queue are full. */
  async run<T>(task: () => Promise<T>): Promise<T | null> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) {
        return null;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) {
        next(); // the slot passes to the next waiter
      } else {
        this.running--;
      }
    }
  }
}
