/**
 * Asymmetric JWT keys (EdDSA, ES256, RS256) with jose: generation, JWK export for
 * storage, import for signing and verifying, and the rule for how long a retired
 * key keeps verifying. No storage here: src/auth/key-ring.ts loads and rotates.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { NewSigningKey, SigningKeyRecord } from '../core/signing-key.js';
import type { SigningAlgorithm } from '../core/algorithms.js';

/**
 * How long after its retirement a key keeps verifying, beyond the access-token
 * lifetime: other instances may sign with it until their next reload (every
 * 60 s by default, so two intervals) and clocks differ a little between hosts.
 */
export const RETIRED_KEY_GRACE_SECONDS = 300;

/** A stored key made usable: imported key objects and its public JWK as published. */
export interface LoadedSigningKey {
  kid: string;
  algorithm: SigningAlgorithm;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  /** `{kty, crv/x/y or n/e, kid, alg, use}` for /.well-known/jwks.json. */
  publicJwk: JWK;
  createdAt: Date;
  retiredAt: Date | null;
}

/**
 * A fresh key pair, ready for `store.addSigningKeyIfNone()` or `store.rotateSigningKey()`.
 * Its kid is the RFC 7638 thumbprint of the public key.
 * @example const key = await generateSigningKey('EdDSA', new Date());
 */
export async function generateSigningKey(algorithm: SigningAlgorithm, now: Date): Promise<NewSigningKey> {
  // RSA keys are 2048 bits (jose's default): the minimum of RFC 7518 §3.3, and fast to generate.
  const { publicKey, privateKey } = await generateKeyPair(algorithm, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return {
    kid: await calculateJwkThumbprint(publicJwk),
    algorithm,
    publicJwk: { ...publicJwk },
    privateJwk: { ...(await exportJWK(privateKey)) },
    createdAt: now,
  };
}

export async function loadSigningKey(record: SigningKeyRecord): Promise<LoadedSigningKey> {
  const publicJwk = record.publicJwk as JWK;
  const [publicKey, privateKey] = await Promise.all([
    importJWK(publicJwk, record.algorithm),
    importJWK(record.privateJwk as JWK, record.algorithm),
  ]);
  if (publicKey instanceof Uint8Array || privateKey instanceof Uint8Array) {
    throw new TypeError(`signing key ${record.kid} is not an ${record.algorithm} key pair`);
  }
  return {
    kid: record.kid,
    algorithm: record.algorithm,
    publicKey,
    privateKey,
    publicJwk: publicOnly(publicJwk, record),
    createdAt: record.createdAt,
    retiredAt: record.retiredAt,
  };
}

/** Seconds a key keeps verifying after it was retired: tokens it signed live at most this long. */
export function retiredKeyLifetimeSeconds(accessTokenSeconds: number): number {
  return accessTokenSeconds + RETIRED_KEY_GRACE_SECONDS;
}

/** True while the key may verify tokens: always when active, and for a while after retirement. */
export function stillVerifies(
  key: Pick<SigningKeyRecord, 'retiredAt'>,
  accessTokenSeconds: number,
  now: Date,
): boolean {
  if (key.retiredAt === null) return true;
  return now.getTime() < key.retiredAt.getTime() + retiredKeyLifetimeSeconds(accessTokenSeconds) * 1000;
}

/** Only the public members, whatever else the stored JWK holds: a private part must never be published. */
function publicOnly(jwk: JWK, record: SigningKeyRecord): JWK {
  const members = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;
  const out: JWK = {};
  for (const name of members) if (typeof jwk[name] === 'string') out[name] = jwk[name];
  return { ...out, kid: record.kid, alg: record.algorithm, use: 'sig' };
}
