import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { AccessTokens, hs256Keys, type SigningKeys } from '../../src/security/tokens.js';
import { GatekeeperError } from '../../src/errors.js';

/** Tokens minted by Gatekeeper's own AccessTokens, so the verifier is tested on what it will really see. */
export const USER = { id: '00000000-0000-4000-8000-000000000001', username: 'alice', role: 'regular' as const };
export const SETTINGS = { accessTokenMinutes: 30, issuer: 'https://gk.test', audience: 'orders' };
export const SECRET = 'verifier-test-secret-that-is-long-enough-0123456789';
export const NOW = new Date('2030-01-01T00:00:00Z');

export type Algorithm = 'EdDSA' | 'RS256' | 'ES256';

export interface AsymmetricIssuer {
  kid: string;
  /** As Gatekeeper publishes it: public members, kid, alg, use. */
  publicJwk: JWK;
  /** Signs hand-made tokens under the published kid. */
  privateKey: CryptoKey;
  tokens: AccessTokens;
}

export async function asymmetricIssuer(algorithm: Algorithm, settings = SETTINGS): Promise<AsymmetricIssuer> {
  const { publicKey, privateKey } = await generateKeyPair(algorithm, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const publicJwk = { ...jwk, kid, alg: algorithm, use: 'sig' };
  const keys: SigningKeys = {
    algorithm,
    signingKey: async () => ({ kid, key: privateKey }),
    verificationKey: async () => publicKey,
    jwks: async () => ({ keys: [publicJwk] }),
  };
  return { kid, publicJwk, privateKey, tokens: new AccessTokens(keys, settings) };
}

export function hs256Issuer(settings = SETTINGS, secret = SECRET): AccessTokens {
  return new AccessTokens(hs256Keys(secret), settings);
}

export interface JwksServer {
  url: string;
  /** The keys served; tests change them to rotate. */
  keys: JWK[];
  /** How many JWKS requests arrived. */
  requests: number;
  /** 'fail' answers 500; 'hang' never answers. */
  mode: 'ok' | 'fail' | 'hang';
  close(): Promise<void>;
}

/** A real JWKS endpoint on loopback: the protocol the verifier speaks to Gatekeeper. */
export async function jwksServer(keys: JWK[] = []): Promise<JwksServer> {
  const state = { keys, requests: 0, mode: 'ok' as JwksServer['mode'] };
  const server: Server = createServer((req, res) => {
    state.requests += 1;
    if (state.mode === 'hang') return;
    if (state.mode === 'fail') {
      res.statusCode = 500;
      res.end('{"detail":"Internal server error.","code":"INTERNAL_ERROR"}');
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** The GatekeeperError code a promise rejects with, or 'OK'. */
export function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'OK',
    (e: unknown) => (e instanceof GatekeeperError ? e.code : `not a GatekeeperError: ${String(e)}`),
  );
}

/** A clock tests move by hand. */
export function manualClock(start = NOW) {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance: (seconds: number) => {
      current += seconds * 1000;
    },
  };
}
