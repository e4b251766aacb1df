import { GatekeeperError } from '../errors.js';

/** A key (a client address, an account) charged for one job, and how many jobs that key may hold at once. */
export interface WorkClaim {
  key: string;
  /** Queued-or-running jobs this key may hold; the queue's `share` when absent. */
  share?: number;
}

/**
 * A place reserved in the queue for one piece of work (a login): the keys it is
 * charged to stay held from the reservation until release(), database reads included,
 * so a burst from one key is refused before any of its work starts.
 */
export interface WorkTicket {
  /** Charges one more key; OVERLOADED when that key already holds its share. */
  claim(claim: WorkClaim): void;
  /** Runs a job in the queue (the global bound applies; the ticket's keys are already charged). */
  run<T>(job: () => Promise<T>): Promise<T>;
  /** Gives the ticket's keys back; idempotent. */
  release(): void;
}

/**
 * Runs at most `concurrency` jobs at once and lets at most `maxQueued` wait.
 * Argon2 needs its full memory cost per running hash, so an unbounded pile of
 * logins would be an unbounded pile of memory: past the queue bound we refuse
 * with OVERLOADED (503 + Retry-After) instead.
 *
 * Fair share: a ticket's keys (client address, account) may each hold at most
 * `share` queued-or-running jobs, so one client with a hundred connections keeps
 * a quarter of the queue, not all of it, and only that client is refused.
 */
export class WorkQueue {
  #running = 0;
  #waiting: Array<() => void> = [];
  readonly #held = new Map<string, number>();
  /** Jobs one key may hold at once: max(1, floor(maxQueued / 4)). */
  readonly share: number;

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new TypeError('concurrency must be a whole number ≥ 1');
    if (!Number.isInteger(maxQueued) || maxQueued < 0) throw new TypeError('maxQueued must be a whole number ≥ 0');
    this.share = Math.max(1, Math.floor(maxQueued / 4));
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

  /** How many tickets hold `key` now. */
  heldBy(key: string): number {
    return this.#held.get(key) ?? 0;
  }

  /**
   * Throws OVERLOADED now if run() would: lets a caller refuse before doing the work
   * that leads up to a job (database reads, parsing) rather than after it.
   */
  admit(): void {
    if (this.full) throw overloaded();
  }

  /**
   * admit(), then charges `claims` to a new ticket; OVERLOADED (to this caller only)
   * when the queue is full or one of its keys already holds its share.
   */
  reserve(claims: readonly WorkClaim[] = []): WorkTicket {
    this.admit();
    const charged: string[] = [];
    const ticket: WorkTicket = {
      claim: (claim) => {
        const held = this.heldBy(claim.key);
        if (held >= (claim.share ?? this.share)) throw overloaded();
        this.#held.set(claim.key, held + 1);
        charged.push(claim.key);
      },
      run: (job) => this.run(job),
      release: () => {
        for (const key of charged.splice(0)) {
          const held = this.heldBy(key) - 1;
          if (held > 0) this.#held.set(key, held);
          else this.#held.delete(key);
        }
      },
    };
    try {
      for (const claim of claims) ticket.claim(claim);
    } catch (err) {
      ticket.release();
      throw err;
    }
    return ticket;
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
