import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { WorkQueue } from './work-queue.js';
import type { SecurityLevel } from '../core/security-levels.js';

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
  #dummyHash: Promise<string> | undefined;

  constructor(options: PasswordHasherOptions) {
    this.params = options.params ?? SECURITY_LEVELS[options.level];
    this.queue = new WorkQueue(options.concurrency, options.maxQueued);
  }

  hash(password: string): Promise<string> {
    return this.queue.run(() => argon2Hash(password, { ...this.params, algorithm: ARGON2ID }));
  }

  async verify(stored: string, password: string): Promise<VerifyResult> {
    const parsed = parseHash(stored);
    if (!parsed || !withinCaps(parsed)) return { ok: false, needsRehash: false };
    const ok = await this.queue.run(() => argon2Verify(stored, password).catch(() => false));
    return { ok, needsRehash: ok && !this.#matchesLevel(parsed) };
  }

  /**
   * Spends the same work as a real verification, for logins of unknown users,
   * so that their timing does not reveal which usernames exist.
   */
  async verifyDummy(password: string): Promise<void> {
    this.#dummyHash ??= argon2Hash('gatekeeper-dummy-password', { ...this.params, algorithm: ARGON2ID });
    const dummy = await this.#dummyHash;
    await this.queue.run(() => argon2Verify(dummy, password).catch(() => false));
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
