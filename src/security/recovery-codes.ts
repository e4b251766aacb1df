/**
 * MFA recovery codes: typed by people from a printout, so short and unambiguous, yet each
 * worth guessing only with the login throttle in the way. Ten codes of 12 characters from
 * Crockford's base32 alphabet (no I, L, O, U; a typed O reads as 0, I and L as 1): 60 random
 * bits each, shown as `xxxx-xxxx-xxxx`. Stored as SHA-256 only: at 60 bits a slow hash adds nothing an online
 * guesser meets (the throttle allows a handful of tries per window), and an offline attacker
 * with the table would need 2^60 hashes per code.
 */
import { createHash, randomInt } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32: 5 bits a symbol
const LENGTH = 12;

/** A new set of recovery codes in their display form. */
export function newRecoveryCodes(count: number = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    let code = '';
    for (let i = 0; i < LENGTH; i += 1) code += ALPHABET[randomInt(ALPHABET.length)];
    return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
  });
}

/** The canonical form of a typed code: case, spaces and dashes do not matter. */
export function normalizeRecoveryCode(typed: string): string {
  return typed.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
}

/** What the store keeps of a recovery code (from any typed form of it). */
export function hashRecoveryCode(typed: string): string {
  return createHash('sha256').update(normalizeRecoveryCode(typed)).digest('hex');
}
