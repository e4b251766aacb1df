/**
 * Issue 5, point 4: asymmetric signing keys through the HTTP app, and `gatekeeper keys rotate`.
 */
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../src/auth/key-ring.js';
import type { CliIo } from '../../src/cli/command.js';
import { keysCommand } from '../../src/cli/commands/keys.js';
import { buildGatekeeper } from '../../src/compose/build-gatekeeper.js';
import {
  BACKENDS,
  CHEAP_HASH,
  bearer,
  expectError,
  json,
  login,
  register,
  startGatekeeper,
  testConfig,
  type TestGatekeeper,
} from '../support/app.js';
import { testClock } from '../support/clock.js';
import { runGatekeeper as gatekeeper } from '../support/cli.js';
import { createTestDatabase } from '../support/database.js';
import { SIGNING_ALGORITHMS } from '../../src/core/algorithms.js';

const cases = BACKENDS.flatMap((backend) => SIGNING_ALGORITHMS.map((algorithm) => [backend, algorithm] as const));

describe.each(cases)('signing keys (%s store, %s)', (backend, algorithm) => {
  const clock = testClock();
  let gk: TestGatekeeper;

  beforeAll(async () => {
    gk = await startGatekeeper(
      backend,
      { GATEKEEPER_JWT_ALGORITHM: algorithm, GATEKEEPER_ISSUER: 'gatekeeper-test', GATEKEEPER_AUDIENCE: 'apps' },
      { now: clock.now },
    );
    await register(gk.app, 'keyholder');
  });
  afterAll(async () => {
    await gk?.close();
  });

  const jwks = async () => {
    const res = await gk.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode, res.body).toBe(200);
    return (json(res) as { keys: Array<Record<string, string>> }).keys;
  };
  const me = (token: string) => gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token) });

  it('puts the kid in every token and publishes that public key at /.well-known/jwks.json', async () => {
    const tokens = await login(gk.app, 'keyholder');
    const header = decodeProtectedHeader(tokens.access_token);
    expect(header.alg).toBe(algorithm);
    const keys = await jwks();
    expect(keys.map((k) => k.kid)).toEqual([header.kid]);
    expect(keys[0]).toMatchObject({ alg: algorithm, use: 'sig' });
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(keys[0]).not.toHaveProperty(secret);
    expect((await me(tokens.access_token)).statusCode).toBe(200);
  });

  it('rejects tokens signed by another key, with another algorithm, issuer or audience', async () => {
    const genuine = await login(gk.app, 'keyholder');
    const claims = decodeJwt(genuine.access_token);
    const { kid } = decodeProtectedHeader(genuine.access_token);
    const forge = (key: Parameters<SignJWT['sign']>[0], alg: string, patch: Record<string, unknown> = {}) =>
      new SignJWT({ ...claims, ...patch }).setProtectedHeader({ alg, kid: kid! }).sign(key);
    const other = await generateKeyPair(algorithm);
    const attempts = [
      await forge(other.privateKey, algorithm),
      await forge(new TextEncoder().encode('a-secret-that-is-long-enough-for-hs256-0123'), 'HS256'),
      await forge(other.privateKey, algorithm, { iss: 'someone-else' }),
      await forge(other.privateKey, algorithm, { aud: 'other-apps' }),
    ];
    for (const token of attempts) expectError(await me(token), 401, 'INVALID_TOKEN');
  });

  it('a rotation keeps old tokens valid; new tokens carry the new kid; JWKS lists both', async () => {
    const before = await login(gk.app, 'keyholder');
    const oldKid = decodeProtectedHeader(before.access_token).kid;
    const { kid: newKid } = await rotateSigningKey(gk.store, algorithm);
    clock.advance(61); // the instance reloads its keys before signing once a minute
    const after = await login(gk.app, 'keyholder');
    expect(decodeProtectedHeader(after.access_token).kid).toBe(newKid);
    expect((await me(before.access_token)).statusCode).toBe(200);
    expect((await me(after.access_token)).statusCode).toBe(200);
    expect((await jwks()).map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
  });
});

describe('gatekeeper keys rotate', () => {
  const run = async (env: Record<string, string>) => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env } as unknown as CliIo;
    const rotate = keysCommand.subcommands!.find((c) => c.name === 'rotate')!;
    const code = await rotate.run!({ values: {}, positionals: [] }, io).catch((e: Error) => e);
    return { code, out, err };
  };

  it('adds a new key that the running service signs with after its next reload, and refuses HS256', async () => {
    const database = await createTestDatabase();
    const env = { GATEKEEPER_BACKEND: 'postgres', DATABASE_URL: database.url, GATEKEEPER_JWT_ALGORITHM: 'ES256' };
    const clock = testClock();
    const service = await buildGatekeeper(testConfig(env), { hashParams: CHEAP_HASH, now: clock.now });
    try {
      await register(service.app, 'cli_keys');
      const first = decodeProtectedHeader((await login(service.app, 'cli_keys')).access_token).kid;
      const result = await run(env);
      expect(result.code).toBe(0);
      expect(result.out).toHaveLength(1);
      expect(result.out[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(result.err.join('\n')).toContain(`previous: ${first}`);
      clock.advance(61);
      expect(decodeProtectedHeader((await login(service.app, 'cli_keys')).access_token).kid).toBe(result.out[0]);
      const refused = await run({ ...env, GATEKEEPER_JWT_ALGORITHM: 'HS256' });
      expect(String(refused.code)).toMatch(/HS256/);
    } finally {
      await service.close();
      await database.drop();
    }
  });

  it('runs as `gatekeeper keys rotate` from the command line, with exit codes scripts can rely on', async () => {
    const database = await createTestDatabase();
    try {
      const env = { GATEKEEPER_BACKEND: 'postgres', DATABASE_URL: database.url, GATEKEEPER_JWT_ALGORITHM: 'EdDSA' };
      const ok = await gatekeeper(['keys', 'rotate'], { env });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const hs = await gatekeeper(['keys', 'rotate'], { env: { ...env, GATEKEEPER_JWT_ALGORITHM: 'HS256' } });
      expect(hs.code).toBe(1);
      expect(hs.stderr).toMatch(/HS256/);
      expect((await gatekeeper(['keys', 'spin'], { env })).code).toBe(2);
    } finally {
      await database.drop();
    }
  });
});
