/** The one-time tokens facet in process memory (src/store/contract/one-time-tokens.ts). */
import { timingSafeEqual } from 'node:crypto';
import type { NewOneTimeToken, OneTimeTokensStore } from '../contract/one-time-tokens.js';

interface Entry extends NewOneTimeToken {
  usedAt: Date | null;
  failedAttempts: number;
}

const spent = (entry: Entry) => ({ userId: entry.userId, email: entry.email ?? null });

/** The facet, plus the cascade the users facet calls when it deletes a user. */
export interface MemoryOneTimeTokens extends OneTimeTokensStore {
  deleteTokensOf(userId: string): void;
}

/**
 * `userExists` stands in for the foreign key: no token for a user that is not there.
 * @example const tokens = createMemoryOneTimeTokens((id) => users.has(id));
 */
export function createMemoryOneTimeTokens(userExists: (userId: string) => Promise<boolean>): MemoryOneTimeTokens {
  const byHash = new Map<string, Entry>();

  const voidOf = (userId: string, now: Date, purpose?: string): number => {
    let voided = 0;
    for (const entry of byHash.values()) {
      if (entry.userId === userId && entry.usedAt === null && (purpose === undefined || entry.purpose === purpose)) {
        entry.usedAt = now;
        voided += 1;
      }
    }
    return voided;
  };

  return {
    async issueOneTimeToken(token, budget) {
      if (!(await userExists(token.userId))) return false;
      // From here on nothing awaits: the count, the voiding and the insert are one step.
      let issued = 0;
      for (const entry of byHash.values()) {
        if (entry.userId === token.userId && entry.purpose === token.purpose && entry.createdAt >= budget.since) {
          issued += 1;
        }
      }
      if (issued >= budget.max) return false;
      voidOf(token.userId, token.createdAt, token.purpose);
      byHash.set(token.tokenHash, { ...token, usedAt: null, failedAttempts: 0 });
      return true;
    },

    async consumeOneTimeToken(tokenHash, purpose, now) {
      const entry = byHash.get(tokenHash);
      if (!entry || entry.purpose !== purpose || entry.usedAt !== null || entry.expiresAt <= now) return null;
      entry.usedAt = now;
      return spent(entry);
    },

    async consumeOneTimeCode(userId, purpose, codeHash, now, maxAttempts) {
      for (const entry of byHash.values()) {
        const live = entry.userId === userId && entry.purpose === purpose && entry.usedAt === null;
        if (!live || entry.expiresAt <= now || !entry.codeHash) continue;
        if (sameHash(entry.codeHash, codeHash)) {
          entry.usedAt = now;
          return spent(entry);
        }
        entry.failedAttempts += 1;
        if (entry.failedAttempts >= maxAttempts) entry.usedAt = now;
      }
      return null;
    },

    async findOneTimeToken(tokenHash, purpose, now) {
      const entry = byHash.get(tokenHash);
      if (!entry || entry.purpose !== purpose || entry.usedAt !== null || entry.expiresAt <= now) return null;
      return { userId: entry.userId };
    },

    async voidOneTimeTokens(userId, now, purpose) {
      return voidOf(userId, now, purpose);
    },

    async purgeOneTimeTokens(now, createdBefore) {
      let removed = 0;
      for (const [hash, entry] of byHash) {
        if (entry.createdAt < createdBefore && (entry.usedAt !== null || entry.expiresAt <= now)) {
          byHash.delete(hash);
          removed += 1;
        }
      }
      return removed;
    },

    deleteTokensOf(userId) {
      for (const [hash, entry] of byHash) if (entry.userId === userId) byHash.delete(hash);
    },
  };
}

/** Hex digests of equal length, compared in constant time like every secret-derived value. */
function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
