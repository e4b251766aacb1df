/** The signing-keys facet of the storage contract: asymmetric JWT keys (GATEKEEPER_JWT_ALGORITHM other than HS256). */
import type { SigningAlgorithm } from '../../core/algorithms.js';
import type { NewSigningKey, SigningKeyRecord } from '../../core/signing-key.js';

export type { NewSigningKey, SigningKeyRecord };

/** The key ring's storage: one active key per algorithm, retired keys kept until purged. */
export interface SigningKeysStore {
  /** Every stored key of the algorithm: the active one first, then the newest. */
  listSigningKeys(algorithm: SigningAlgorithm): Promise<SigningKeyRecord[]>;
  /**
   * Makes `key` the active key unless its algorithm already has one, and returns the
   * active key: of several instances starting at once, the first writer wins.
   */
  addSigningKeyIfNone(key: NewSigningKey): Promise<SigningKeyRecord>;
  /**
   * Atomically retires the active key of `key.algorithm` (retiredAt = key.createdAt) and
   * makes `key` active. Returns the key it retired, or null when there was none.
   */
  rotateSigningKey(key: NewSigningKey): Promise<SigningKeyRecord | null>;
  /** Deletes keys retired before `retiredBefore`; returns how many. */
  purgeSigningKeys(retiredBefore: Date): Promise<number>;
}
