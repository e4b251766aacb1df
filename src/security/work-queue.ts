import { GatekeeperError } from '../errors.js';

/**
 * Runs at most `concurrency` jobs at once and lets at most `maxQueued` wait.
 * Argon2 needs its full memory cost per running hash, so an unbounded pile of
 * logins would be an unbounded pile of memory: past the queue bound we refuse
 * with OVERLOADED (503 + Retry-After) instead.
 */
export class WorkQueue {
  #running = 0;
  #waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new TypeError('concurrency must be a whole number ≥ 1');
    if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new TypeError('maxQueued must be a whole number ≥ 0');
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** True while run() would refuse a new job. */
  get full(): boolean {
    return this.#running >= this.concurrency && this.#waiting.length >= this.maxQueued;
  }

  /**
   * Throws OVERLOADED now if run() would: lets a caller refuse before doing the work
   * that leads up to a job (database reads, parsing) rather than after it.
   */
  admit(): void {
    if (this.full) throw overloaded();
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueued) throw overloaded();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await job();
    } finally {
      // Hand the slot straight to the next waiter so `running` never dips and lets a newcomer jump the queue.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}

function overloaded(): GatekeeperError {
  return new GatekeeperError('OVERLOADED', 'The server is busy hashing passwords; try again shortly.', {
    retryAfterSeconds: 1,
  });
}
