/** The one-time tokens facet in process memory (src/store/contract/one-time-tokens.ts). */
import type { NewOneTimeToken, OneTimeTokensStore } from '../contract/one-time-tokens.js';

interface Entry extends NewOneTimeToken {
  usedAt: Date | null;
}

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
      byHash.set(token.tokenHash, { ...token, usedAt: null });
      return true;
    },

    async consumeOneTimeToken(tokenHash, purpose, now) {
      const entry = byHash.get(tokenHash);
      if (!entry || entry.purpose !== purpose || entry.usedAt !== null || entry.expiresAt <= now) return null;
      entry.usedAt = now;
      return { userId: entry.userId };
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
