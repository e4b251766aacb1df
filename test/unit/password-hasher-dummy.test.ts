/**
 * Issue 18 point 8: after a change of security level, unknown users must cost what existing
 * users' stored hashes cost, not what a hash at the new level costs. And issue 18 point 11: an
 * unpaired surrogate is encoded as U+FFFD by the binding, so it must never verify.
 */
import { hash as argon2Hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { PasswordHasher } from '../../src/security/password-hasher.js';

const OLD_LEVEL = { memoryCost: 2048, timeCost: 2, parallelism: 1 };
const NEW_LEVEL = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

const hasher = () => new PasswordHasher({ level: 'LOW', params: NEW_LEVEL, concurrency: 2, maxQueued: 16 });

describe('PasswordHasher.verifyDummy', () => {
  it('uses the configured parameters while no stored hash has been verified', async () => {
    expect(await hasher().verifyDummy('whatever')).toEqual(NEW_LEVEL);
  });

  it('draws its parameters from the stored hashes verified recently', async () => {
    const h = hasher();
    const stored = await argon2Hash('Old-level-pass1!', { ...OLD_LEVEL, algorithm: 2 });
    expect((await h.verify(stored, 'Wrong-pass-1!')).ok).toBe(false);
    // Every sample so far is of the old level: the dummy must cost the same.
    for (let i = 0; i < 5; i += 1) expect(await h.verifyDummy('whatever')).toEqual(OLD_LEVEL);
  });

  it('follows the mix of stored parameters', async () => {
    const h = hasher();
    const oldHash = await argon2Hash('Old-level-pass1!', { ...OLD_LEVEL, algorithm: 2 });
    const newHash = await argon2Hash('New-level-pass1!', { ...NEW_LEVEL, algorithm: 2 });
    for (let i = 0; i < 8; i += 1) await h.verify(i % 2 === 0 ? oldHash : newHash, 'Wrong-pass-1!');
    const used = new Set<number>();
    for (let i = 0; i < 40; i += 1) used.add((await h.verifyDummy('x')).timeCost);
    // Half and half: 40 draws all landing on one side has probability 2 × 2^-40.
    expect([...used].sort()).toEqual([1, 2]);
  });

  it('ignores stored hashes it refuses to run (past the caps)', async () => {
    const h = hasher();
    await h.verify('$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA', 'x');
    expect(await h.verifyDummy('x')).toEqual(NEW_LEVEL);
  });
});

describe('PasswordHasher.verify with unpaired surrogates', () => {
  it('never accepts "\\ud800" for a password stored as U+FFFD', async () => {
    const h = hasher();
    const stored = await h.hash('Replacement-\ufffd-1A!');
    expect((await h.verify(stored, 'Replacement-\ufffd-1A!')).ok).toBe(true);
    expect((await h.verify(stored, 'Replacement-\ud800-1A!')).ok).toBe(false);
    expect((await h.verify(stored, 'Replacement-\udfff-1A!')).ok).toBe(false);
  });
});
