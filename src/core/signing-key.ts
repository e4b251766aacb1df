import type { SigningAlgorithm } from './algorithms.js';

/** An asymmetric JWT signing key as stored: both halves as JWK, the private one never leaves the server. */
export interface SigningKeyRecord {
  /** RFC 7638 thumbprint of the public key; the `kid` header of tokens it signs. */
  kid: string;
  algorithm: SigningAlgorithm;
  publicJwk: Record<string, unknown>;
  privateJwk: Record<string, unknown>;
  createdAt: Date;
  /** When a newer key took over signing (null: this is the active key); it still verifies for a while. */
  retiredAt: Date | null;
}

export type NewSigningKey = Omit<SigningKeyRecord, 'retiredAt'>;
