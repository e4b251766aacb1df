import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { WorkQueue, type WorkTicket } from './work-queue.js';
import type { SecurityLevel } from '../core/security-levels.js';
import { hasLoneSurrogate } from '../core/validation.js';

export interface Argon2Params {
  /** KiB */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** The levels of the Python original (argon2-cffi based), kept so stored hashes mean the same. */
export const SECURITY_LEVELS: Readonly<Record<SecurityLevel, Argon2Params>> = Object.freeze({
  LOW: { memoryCost: 64 * 1024, timeCost: 2, parallelism: 1 },
  MEDIUM: { memoryCost: 128 * 1024, timeCost: 3, parallelism: 2 },
  HIGH: { memoryCost: 256 * 1024, timeCost: 4, parallelism: 4 },
  PARANOID: { memoryCost: 512 * 1024, timeCost: 6, parallelism: 8 },
});

/**
 * A planted or corrupted hash must not become a denial of service: refuse to
 * run anything dearer than these (PARANOID sits well inside them).
 */
const MAX_PARAMS: Argon2Params = { memoryCost: 1024 * 1024, timeCost: 16, parallelism: 16 };

/** How many recent verifications the dummy's parameters are drawn from. */
const DUMMY_SAMPLE = 64;
/** Dummy hashes kept for different parameter sets (a few levels at most in practice). */
const DUMMY_VARIANTS = 8;

const ARGON2ID = 2; // Algorithm.Argon2id: a const enum in @node-rs/argon2's types, so not importable at run time.

const PHC = /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

export interface ParsedHash extends Argon2Params {
  algorithm: 'argon2id' | 'argon2i' | 'argon2d';
  version: number;
}

/** Reads the parameters of a PHC-format Argon2 hash; null when it is not one. */
export function parseHash(stored: string): ParsedHash | null {
  const match = PHC.exec(stored);
  if (!match) return null;
  const [, algorithm, version, m, t, p] = match;
  return {
    algorithm: algorithm as ParsedHash['algorithm'],
    version: Number(version),
    memoryCost: Number(m),
    timeCost: Number(t),
    parallelism: Number(p),
  };
}

export interface VerifyResult {
  ok: boolean;
  /** The password was right but the hash was made with other parameters than the configured level. */
  needsRehash: boolean;
}

export interface PasswordHasherOptions {
  level: SecurityLevel;
  /** Overrides the level's parameters (tests and benchmarks use cheap ones); hashes are still Argon2id. */
  params?: Argon2Params;
  concurrency: number;
  maxQueued: number;
}

/**
 * Argon2id hashing in PHC format, on libuv's thread pool (never the event loop),
 * through a bounded queue. Hashes of the Python original (argon2-cffi) verify as is.
 */
export class PasswordHasher {
  readonly params: Argon2Params;
  readonly queue: WorkQueue;
  /** Parameters of the stored hashes verified most recently (a ring of DUMMY_SAMPLE entries). */
  readonly #recent: Argon2Params[] = [];
  #recentNext = 0;
  /** One dummy hash per parameter set the dummy verification has needed (at most DUMMY_VARIANTS). */
  readonly #dummyHashes = new Map<string, Promise<string>>();

  constructor(options: PasswordHasherOptions) {
    this.params = options.params ?? SECURITY_LEVELS[options.level];
    this.queue = new WorkQueue(options.concurrency, options.maxQueued);
  }

  /** With a ticket, the job is charged to the ticket's keys (their fair share of the queue). */
  hash(password: string, ticket?: WorkTicket): Promise<string> {
    return (ticket ?? this.queue).run(() => argon2Hash(password, { ...this.params, algorithm: ARGON2ID }));
  }

  async verify(stored: string, password: string, ticket?: WorkTicket): Promise<VerifyResult> {
    const parsed = parseHash(stored);
    if (!parsed || !withinCaps(parsed)) return { ok: false, needsRehash: false };
    this.#remember(parsed);
    const verified = await (ticket ?? this.queue).run(() => argon2Verify(stored, password).catch(() => false));
    // The binding encodes an unpaired surrogate as U+FFFD, so "\ud800" would match a password holding
    // U+FFFD: the same work is spent, but such a password never verifies.
    const ok = verified && !hasLoneSurrogate(password);
    return { ok, needsRehash: ok && !this.#matchesLevel(parsed) };
  }

  /**
   * Spends the same work as a real verification, for logins of unknown users, so that their
   * timing does not reveal which usernames exist. The work is that of a real account's hash:
   * the parameters are drawn from the stored hashes verified recently, so after a change of
   * security level (or an import of older hashes) unknown users cost what existing users do,
   * not what a hash at the new level would (issue 18 point 8). Returns the parameters it used.
   */
  async verifyDummy(password: string, ticket?: WorkTicket): Promise<Argon2Params> {
    const params = this.#recent[Math.floor(Math.random() * this.#recent.length)] ?? this.params;
    const key = `${params.memoryCost}:${params.timeCost}:${params.parallelism}`;
    let dummy = this.#dummyHashes.get(key);
    if (!dummy) {
      if (this.#dummyHashes.size >= DUMMY_VARIANTS) this.#dummyHashes.clear();
      dummy = argon2Hash('gatekeeper-dummy-password', { ...params, algorithm: ARGON2ID });
      this.#dummyHashes.set(key, dummy);
    }
    const hash = await dummy;
    await (ticket ?? this.queue).run(() => argon2Verify(hash, password).catch(() => false));
    return params;
  }

  #remember(parsed: Argon2Params): void {
    const params = { memoryCost: parsed.memoryCost, timeCost: parsed.timeCost, parallelism: parsed.parallelism };
    this.#recent[this.#recentNext] = params;
    this.#recentNext = (this.#recentNext + 1) % DUMMY_SAMPLE;
  }

  #matchesLevel(parsed: ParsedHash): boolean {
    return (
      parsed.algorithm === 'argon2id' &&
      parsed.version === 19 &&
      parsed.memoryCost === this.params.memoryCost &&
      parsed.timeCost === this.params.timeCost &&
      parsed.parallelism === this.params.parallelism
    );
  }
}

function withinCaps(p: Argon2Params): boolean {
  return (
    p.memoryCost >= 8 &&
    p.memoryCost <= MAX_PARAMS.memoryCost &&
    p.timeCost >= 1 &&
    p.timeCost <= MAX_PARAMS.timeCost &&
    p.parallelism >= 1 &&
    p.parallelism <= MAX_PARAMS.parallelism
  );
}
