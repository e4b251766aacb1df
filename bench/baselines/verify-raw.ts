/**
 * Local access-token verification in a plain Node process (no HTTP): Gatekeeper's verifier
 * (`createVerifier`, src/verifier/) against raw jose `jwtVerify` with the same key and the
 * same checks (issuer, audience, algorithm), on the same real tokens. Driven over IPC by
 * the library scenario (bench/scenarios/library.ts), one bounded run per command, so that
 * the two alternate run by run in one process.
 *
 * The raw side gets the tightest key jose can be given: for EdDSA the public key of the
 * token's `kid`, fetched once from Gatekeeper's JWKS and imported once (`importJWK`); for
 * HS256 the secret imported once as a WebCrypto HMAC key (given raw bytes, jose would import
 * them on every call). The verifier gets `{ jwksUrl }` (its jose remote key set, fetched once
 * before the first run and cached) or `{ secret }`, as another service would configure it.
 */
import { performance } from 'node:perf_hooks';
import { decodeProtectedHeader, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import { createVerifier } from '../../src/verifier/index.js';
import { serveRpc } from '../lib/rpc.js';
import { latencySummary } from '../lib/stats.js';
import type { RunResult } from '../lib/types.js';

export type VerifyImpl = 'jose' | 'verifier';
export type VerifyAlgorithm = 'EdDSA' | 'HS256';

export interface VerifyCommand {
  impl: VerifyImpl;
  alg: VerifyAlgorithm;
  /** EdDSA: Gatekeeper's /.well-known/jwks.json. */
  jwksUrl?: string;
  /** HS256: GATEKEEPER_SECRET_KEY. */
  secret?: string;
  issuer: string;
  audience: string;
  /** Real access tokens, verified in turn by every loop. */
  tokens: string[];
  /** Verifications in flight (WebCrypto runs them on libuv's thread pool). */
  concurrency: number;
  durationSec: number;
  leadInSec: number;
}

type VerifyOnce = (token: string) => Promise<unknown>;

async function rawJose(command: VerifyCommand): Promise<VerifyOnce> {
  const options = { issuer: command.issuer, audience: command.audience, algorithms: [command.alg] };
  let key: CryptoKey;
  if (command.alg === 'HS256') {
    const bytes = new TextEncoder().encode(command.secret ?? '');
    key = await globalThis.crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  } else {
    const response = await fetch(command.jwksUrl ?? '');
    if (!response.ok) throw new Error(`JWKS: HTTP ${response.status}`);
    const { keys } = (await response.json()) as { keys: JWK[] };
    const kid = decodeProtectedHeader(command.tokens[0]!).kid;
    const jwk = keys.find((k) => k.kid === kid);
    if (!jwk) throw new Error(`no key ${kid} in the JWKS`);
    key = (await importJWK(jwk, command.alg)) as CryptoKey;
  }
  return (token) => jwtVerify(token, key, options);
}

function gatekeeperVerifier(command: VerifyCommand): VerifyOnce {
  const options = { issuer: command.issuer, audience: command.audience };
  const verifier =
    command.alg === 'HS256'
      ? createVerifier({ secret: command.secret ?? '' }, options)
      : createVerifier({ jwksUrl: command.jwksUrl ?? '' }, options);
  return (token) => verifier.verify(token);
}

/** One implementation per (impl, alg), made and checked once: later runs reuse its keys. */
const prepared = new Map<string, Promise<VerifyOnce>>();

function prepare(command: VerifyCommand): Promise<VerifyOnce> {
  const id = `${command.impl}:${command.alg}`;
  let entry = prepared.get(id);
  if (!entry) {
    entry = (async () => {
      const verify = command.impl === 'jose' ? await rawJose(command) : gatekeeperVerifier(command);
      // Fetches the verifier's JWKS before anything is timed, and proves both accept the tokens.
      for (const token of command.tokens) await verify(token);
      return verify;
    })();
    prepared.set(id, entry);
  }
  return entry;
}

async function run(command: VerifyCommand): Promise<RunResult> {
  const verify = await prepare(command);
  const tokens = command.tokens;
  const latencies: number[] = [];
  let failed = 0;
  const start = performance.now();
  const from = start + command.leadInSec * 1000;
  const to = start + command.durationSec * 1000;
  const loop = async (offset: number) => {
    let i = offset;
    while (performance.now() < to) {
      const token = tokens[i % tokens.length]!;
      i += 1;
      const t0 = performance.now();
      const ok = await verify(token).then(
        () => true,
        () => false,
      );
      const t1 = performance.now();
      if (t1 < from || t1 > to) continue;
      if (ok) latencies.push(t1 - t0);
      else failed += 1;
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, (_, n) => loop(n)));
  const windowSec = (to - from) / 1000;
  return {
    ok: latencies.length,
    rate: latencies.length / windowSec,
    ...latencySummary(latencies),
    failed,
    statusCodes: {},
    windowSec,
  };
}

serveRpc(async (command) => run(command as unknown as VerifyCommand));
