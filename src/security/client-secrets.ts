/**
 * OAuth client identifiers and secrets. A secret is 256 random bits, shown once and
 * stored only as its SHA-256. A fast hash is enough here, unlike for passwords: a
 * secret Gatekeeper generated has no dictionary to try, so Argon2id's cost would buy
 * nothing, and client authentication sits on the hot path (a verifier may introspect
 * on every request), where a slow hash would cost every caller.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `gk_` + 16 random bytes, base64url: public, but unguessable so ids cannot be enumerated. */
export function newClientId(): string {
  return `gk_${randomBytes(16).toString('base64url')}`;
}

/** 32 random bytes, base64url (43 characters). Shown to the operator once. */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 (hex) of the secret: what the store keeps. */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Whether `secret` is the one whose hash is stored, compared in constant time (both sides
 * are 32-byte digests, so the comparison does not even reveal the length of the guess).
 */
export function verifyClientSecret(secret: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'hex');
  const actual = createHash('sha256').update(secret, 'utf8').digest();
  if (expected.length !== actual.length) return false;
  return timingSafeEqual(actual, expected);
}
