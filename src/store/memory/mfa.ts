/** The multi-factor facet in process memory (src/store/contract/mfa.ts). */
import type { MfaRecord, MfaStore } from '../contract/mfa.js';

interface Entry {
  userId: string;
  /** The sealed secret (the contract's secretCiphertext). */
  sealed: string;
  createdAt: Date;
  confirmedAt: Date | null;
  lastStep: number | null;
  /** code hash → used at (null: unused). */
  codes: Map<string, Date | null>;
}

/** The facet, plus the cascade the users facet calls when it deletes a user. */
export interface MemoryMfa extends MfaStore {
  deleteMfaOf(userId: string): void;
}

/**
 * `userExists` stands in for the foreign key. Each method runs without awaiting after that
 * check, which is what makes the accept and consume steps atomic here.
 * @example const mfa = createMemoryMfa(async (id) => users.has(id));
 */
export function createMemoryMfa(userExists: (userId: string) => Promise<boolean>): MemoryMfa {
  const byUser = new Map<string, Entry>();
  // Sessions marked here outlive their session in memory; the set only answers "was it MFA".
  const mfaSessions = new Set<string>();

  const record = (e: Entry): MfaRecord => ({
    userId: e.userId,
    secretCiphertext: e.sealed,
    createdAt: e.createdAt,
    confirmedAt: e.confirmedAt,
    lastStep: e.lastStep,
    recoveryCodesLeft: [...e.codes.values()].filter((used) => used === null).length,
  });

  return {
    async putPendingMfa(userId, sealed, now) {
      if (!(await userExists(userId))) return false;
      if (byUser.get(userId)?.confirmedAt) return false;
      byUser.set(userId, {
        userId,
        sealed,
        createdAt: now,
        confirmedAt: null,
        lastStep: null,
        codes: new Map(),
      });
      return true;
    },
    async getMfa(userId) {
      const entry = byUser.get(userId);
      return entry ? record(entry) : null;
    },
    async confirmMfa(userId, sealed, step, recoveryCodeHashes, now) {
      const entry = byUser.get(userId);
      if (!entry || entry.confirmedAt !== null || entry.sealed !== sealed) return false;
      entry.confirmedAt = now;
      entry.lastStep = step;
      entry.codes = new Map(recoveryCodeHashes.map((hash) => [hash, null]));
      return true;
    },
    async acceptMfaStep(userId, step) {
      const entry = byUser.get(userId);
      if (!entry || entry.confirmedAt === null) return false;
      if (entry.lastStep !== null && entry.lastStep >= step) return false;
      entry.lastStep = step;
      return true;
    },
    async consumeRecoveryCode(userId, codeHash, now) {
      const entry = byUser.get(userId);
      if (!entry || entry.confirmedAt === null || entry.codes.get(codeHash) !== null) return false;
      entry.codes.set(codeHash, now);
      return true;
    },
    async deleteMfa(userId) {
      return byUser.delete(userId);
    },
    async listMfaEnabled(userIds) {
      return new Set(userIds.filter((id) => byUser.get(id)?.confirmedAt));
    },
    async markMfaSession(sessionId) {
      mfaSessions.add(sessionId);
    },
    async isMfaSession(sessionId) {
      return mfaSessions.has(sessionId);
    },
    deleteMfaOf(userId) {
      byUser.delete(userId);
    },
  };
}
