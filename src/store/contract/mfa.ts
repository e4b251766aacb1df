/**
 * The multi-factor facet of the storage contract: a user's TOTP secret (encrypted by the
 * caller; the store never sees it in clear), its replay guard, the recovery codes (their
 * SHA-256 only) and which login sessions were started with a second factor.
 */

export interface MfaRecord {
  userId: string;
  /** Opaque to the store: src/security/secret-box.ts's sealed form. */
  secretCiphertext: string;
  createdAt: Date;
  /** Null while the setup is pending (no code confirmed yet). */
  confirmedAt: Date | null;
  /** The RFC 6238 time step of the last accepted code; null before any. */
  lastStep: number | null;
  /** Recovery codes not yet spent. */
  recoveryCodesLeft: number;
}

export interface MfaStore {
  /**
   * Stores a pending secret for the user, replacing an earlier pending one. False (nothing
   * stored) when the user's MFA is confirmed already, or the user does not exist.
   */
  putPendingMfa(userId: string, secretCiphertext: string, now: Date): Promise<boolean>;
  getMfa(userId: string): Promise<MfaRecord | null>;
  /**
   * Atomically confirms the pending setup whose secret is still `secretCiphertext` (a newer
   * setup in between makes this false), records `step` as the last accepted one and stores
   * the recovery codes' hashes (replacing any). False when there was no such pending setup.
   */
  confirmMfa(
    userId: string,
    secretCiphertext: string,
    step: number,
    recoveryCodeHashes: string[],
    now: Date,
  ): Promise<boolean>;
  /**
   * Atomically accepts a code of time step `step` for a confirmed MFA: true and last_step = step
   * when last_step was null or lower; false otherwise (a replay, or a code older than the last).
   * Of concurrent calls with one step, exactly one is true.
   */
  acceptMfaStep(userId: string, step: number): Promise<boolean>;
  /** Atomically spends an unused recovery code of a confirmed MFA; true for the one call that spent it. */
  consumeRecoveryCode(userId: string, codeHash: string, now: Date): Promise<boolean>;
  /** Removes the user's TOTP secret (pending or confirmed) and recovery codes; true when there was one. */
  deleteMfa(userId: string): Promise<boolean>;
  /** Of these users, the ids of those with confirmed MFA. */
  listMfaEnabled(userIds: readonly string[]): Promise<Set<string>>;
  /** Marks a login session as started with a second factor (an unknown session is ignored). */
  markMfaSession(sessionId: string): Promise<void>;
  isMfaSession(sessionId: string): Promise<boolean>;
}
