import { hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { GatekeeperError } from '../../src/errors.js';
import { PasswordHasher, SECURITY_LEVELS, parseHash } from '../../src/security/password-hasher.js';
import { WorkQueue } from '../../src/security/work-queue.js';

// From argon2-cffi's documentation: the hash format of the Python original (m=64 MiB, t=3, p=4).
const ARGON2_CFFI_HASH =
  '$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg';

const cheap = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('PasswordHasher', () => {
  it('the levels carry the parameters of the original', () => {
    expect(SECURITY_LEVELS).toEqual({
      LOW: { memoryCost: 65536, timeCost: 2, parallelism: 1 },
      MEDIUM: { memoryCost: 131072, timeCost: 3, parallelism: 2 },
      HIGH: { memoryCost: 262144, timeCost: 4, parallelism: 4 },
      PARANOID: { memoryCost: 524288, timeCost: 6, parallelism: 8 },
    });
  });

  it('hashes with Argon2id in PHC format at the configured level (LOW)', async () => {
    const hasher = new PasswordHasher({ level: 'LOW', concurrency: 2, maxQueued: 10 });
    const stored = await hasher.hash('Sup3r-Secret!');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);
    expect(await hasher.verify(stored, 'Sup3r-Secret!')).toEqual({ ok: true, needsRehash: false });
    expect(await hasher.verify(stored, 'sup3r-Secret!')).toEqual({ ok: false, needsRehash: false });
  });

  it('verifies a hash made by the Python original (argon2-cffi) and asks for a rehash to the configured level', async () => {
    const hasher = new PasswordHasher({ level: 'LOW', concurrency: 1, maxQueued: 1 });
    expect(await hasher.verify(ARGON2_CFFI_HASH, 'correct horse battery staple')).toEqual({
      ok: true,
      needsRehash: true,
    });
    expect(await hasher.verify(ARGON2_CFFI_HASH, 'wrong horse battery staple')).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it('does not ask for a rehash when the hash already matches the level', async () => {
    const hasher = new PasswordHasher({ level: 'LOW', concurrency: 1, maxQueued: 1, params: cheap });
    const stored = await hasher.hash('pw');
    expect((await hasher.verify(stored, 'pw')).needsRehash).toBe(false);
    const other = new PasswordHasher({ level: 'LOW', concurrency: 1, maxQueued: 1, params: { ...cheap, timeCost: 2 } });
    expect(await other.verify(stored, 'pw')).toEqual({ ok: true, needsRehash: true });
  });

  it('treats malformed, foreign and over-expensive hashes as a failed verification, without running them', async () => {
    const hasher = new PasswordHasher({ level: 'LOW', concurrency: 1, maxQueued: 1, params: cheap });
    const planted = await hash('pw', { memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const dear = planted.replace('m=1024', 'm=4194304');
    for (const stored of ['', 'plain-text', '$2b$12$abcdefghijklmnopqrstuv', dear, '$argon2id$v=19$m=1024,t=1,p=1$$']) {
      expect(await hasher.verify(stored, 'pw')).toEqual({ ok: false, needsRehash: false });
    }
  });

  it('parseHash() reads the PHC parameters', () => {
    expect(parseHash(ARGON2_CFFI_HASH)).toEqual({
      algorithm: 'argon2id',
      version: 19,
      memoryCost: 65536,
      timeCost: 3,
      parallelism: 4,
    });
    expect(parseHash('nope')).toBeNull();
  });

  it('hashing does not block the event loop', async () => {
    const hasher = new PasswordHasher({ level: 'LOW', concurrency: 1, maxQueued: 1 });
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    await hasher.hash('Sup3r-Secret!');
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
  });
});

describe('WorkQueue', () => {
  it('runs at most `concurrency` jobs at once and refuses past the queue bound with OVERLOADED', async () => {
    const queue = new WorkQueue(2, 1);
    let running = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const job = () =>
      queue.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => releases.push(r));
        running -= 1;
      });
    const a = job();
    const b = job();
    const c = job();
    await expect(job()).rejects.toSatisfy((e: unknown) => e instanceof GatekeeperError && e.code === 'OVERLOADED');
    expect(queue.running).toBe(2);
    expect(queue.queued).toBe(1);
    while (releases.length > 0 || queue.running > 0) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all([a, b, c]);
    expect(peak).toBe(2);
    expect(queue.running).toBe(0);
  });

  it('admit() refuses exactly when run() would, without queueing anything', async () => {
    const queue = new WorkQueue(1, 1);
    const releases: Array<() => void> = [];
    const job = () => queue.run(() => new Promise<void>((r) => releases.push(r)));
    expect(queue.full).toBe(false);
    const a = job();
    queue.admit(); // one running, the queue still has room
    const b = job();
    expect(queue.full).toBe(true);
    expect(() => queue.admit()).toThrow(expect.objectContaining({ code: 'OVERLOADED', retryAfterSeconds: 1 }));
    expect(queue.queued).toBe(1);
    releases.shift()!();
    await a;
    expect(queue.full).toBe(false);
    await new Promise((r) => setImmediate(r));
    releases.shift()!();
    await b;
  });

  it('frees the slot when a job fails', async () => {
    const queue = new WorkQueue(1, 0);
    await expect(queue.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await queue.run(async () => 42)).toBe(42);
  });
});
