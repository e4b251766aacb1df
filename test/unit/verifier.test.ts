import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GatekeeperError } from '../../src/errors.js';
import { createVerifier } from '../../src/verifier/index.js';
import {
  NOW,
  SECRET,
  SETTINGS,
  USER,
  asymmetricIssuer,
  codeOf,
  hs256Issuer,
  jwksServer,
  manualClock,
  type JwksServer,
} from './verifier-fixtures.js';

const OPTIONS = { issuer: SETTINGS.issuer, audience: SETTINGS.audience, now: () => NOW };

let server: JwksServer | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await server?.close();
  server = undefined;
});

describe.each(['EdDSA', 'RS256'] as const)('createVerifier with a JWKS (%s)', (algorithm) => {
  it('accepts a token as Gatekeeper issues it and returns its typed claims', async () => {
    const issuer = await asymmetricIssuer(algorithm);
    server = await jwksServer([issuer.publicJwk]);
    const verifier = createVerifier({ jwksUrl: server.url }, OPTIONS);
    const token = await issuer.tokens.issue(USER, 'session-1', NOW);
    const claims = await verifier.verify(token);
    const { jti } = decodeJwt(token);
    expect(claims).toEqual({
      sub: USER.id,
      username: 'alice',
      role: 'regular',
      sid: 'session-1',
      jti,
      iat: NOW.getTime() / 1000,
      exp: NOW.getTime() / 1000 + 1800,
      // The password login's time: issued without a session start, the token's own iat.
      auth_time: NOW.getTime() / 1000,
      // A password login without a second factor (RFC 8176).
      amr: ['pwd'],
      iss: SETTINGS.issuer,
      aud: SETTINGS.audience,
    });
  });

  it('fetches the JWKS once for many tokens', async () => {
    const issuer = await asymmetricIssuer(algorithm);
    server = await jwksServer([issuer.publicJwk]);
    const verifier = createVerifier({ jwksUrl: server.url }, OPTIONS);
    for (let i = 0; i < 5; i++) await verifier.verify(await issuer.tokens.issue(USER, `s${i}`, NOW));
    expect(server.requests).toBe(1);
  });

  it('after a key rotation, a new kid fetches the JWKS once (after the cooldown) and is then accepted', async () => {
    // jose's JWKS cache measures its cooldown with Date.now(): move that clock instead of sleeping.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const oldKey = await asymmetricIssuer(algorithm);
    const newKey = await asymmetricIssuer(algorithm);
    server = await jwksServer([oldKey.publicJwk]);
    const verifier = createVerifier({ jwksUrl: server.url, cooldownMs: 30_000 }, OPTIONS);
    await verifier.verify(await oldKey.tokens.issue(USER, 's', NOW));
    expect(server.requests).toBe(1);

    server.keys = [newKey.publicJwk, oldKey.publicJwk];
    const rotated = await newKey.tokens.issue(USER, 's', NOW);
    // Within the cooldown the unknown kid is refused without asking again.
    expect(await codeOf(verifier.verify(rotated))).toBe('INVALID_TOKEN');
    expect(server.requests).toBe(1);

    vi.setSystemTime(NOW.getTime() + 30_001);
    expect(await verifier.verify(rotated)).toMatchObject({ sub: USER.id });
    expect(server.requests).toBe(2);
    await verifier.verify(rotated);
    await verifier.verify(await oldKey.tokens.issue(USER, 's', NOW));
    expect(server.requests).toBe(2);
  });

  it('a flood of unknown kids costs at most one JWKS request per cooldown', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const known = await asymmetricIssuer(algorithm);
    server = await jwksServer([known.publicJwk]);
    const verifier = createVerifier({ jwksUrl: server.url, cooldownMs: 30_000 }, OPTIONS);
    await verifier.verify(await known.tokens.issue(USER, 's', NOW));
    const strangers = await Promise.all(
      Array.from({ length: 3 }, () => asymmetricIssuer(algorithm).then((i) => i.tokens.issue(USER, 's', NOW))),
    );
    const flood = () => Promise.all(Array.from({ length: 60 }, (_, i) => codeOf(verifier.verify(strangers[i % 3]!))));

    expect(new Set(await flood())).toEqual(new Set(['INVALID_TOKEN']));
    expect(server.requests).toBe(1);
    vi.setSystemTime(NOW.getTime() + 30_001);
    expect(new Set(await flood())).toEqual(new Set(['INVALID_TOKEN']));
    expect(server.requests).toBe(2);
    expect(new Set(await flood())).toEqual(new Set(['INVALID_TOKEN']));
    expect(server.requests).toBe(2);
  });

  it('rejects wrong issuer, audience, algorithm, a tampered token and a refresh-type token as INVALID_TOKEN', async () => {
    const issuer = await asymmetricIssuer(algorithm);
    server = await jwksServer([issuer.publicJwk]);
    const verifier = createVerifier({ jwksUrl: server.url }, OPTIONS);
    const other = (settings: Partial<typeof SETTINGS>) =>
      asymmetricIssuer(algorithm, { ...SETTINGS, ...settings }).then(async (i) => {
        server!.keys.push(i.publicJwk);
        return i.tokens.issue(USER, 's', NOW);
      });
    expect(await codeOf(verifier.verify(await other({ issuer: 'https://evil.test' })))).toBe('INVALID_TOKEN');
    expect(await codeOf(verifier.verify(await other({ audience: 'billing' })))).toBe('INVALID_TOKEN');

    const good = await issuer.tokens.issue(USER, 's', NOW);
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const admin = Buffer.from(JSON.stringify({ ...decodeJwt(good), role: 'admin' })).toString('base64url');
    expect(await codeOf(verifier.verify(`${header}.${admin}.${signature}`))).toBe('INVALID_TOKEN');
    expect(await codeOf(verifier.verify(`${header}.${payload}.${signature.slice(0, -4)}AAAA`))).toBe('INVALID_TOKEN');

    // Signed with a published key, but not an access token.
    const claims = decodeJwt(good);
    const sign = (payload: Record<string, unknown>) =>
      new SignJWT(payload).setProtectedHeader({ alg: algorithm, kid: issuer.kid }).sign(issuer.privateKey);
    expect(await codeOf(verifier.verify(await sign(claims)))).toBe('OK');
    const refresh = await sign({ ...claims, type: 'refresh' });
    expect(await codeOf(verifier.verify(refresh))).toBe('INVALID_TOKEN');

    // HS256 with the public key as a secret, and alg none: never accepted with a JWKS.
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: issuer.kid })
      .sign(new TextEncoder().encode(SECRET));
    expect(await codeOf(verifier.verify(hs))).toBe('INVALID_TOKEN');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect(await codeOf(verifier.verify(none))).toBe('INVALID_TOKEN');
    const narrow = createVerifier({ jwksUrl: server.url }, { ...OPTIONS, algorithms: ['ES256'] });
    expect(await codeOf(narrow.verify(good))).toBe('INVALID_TOKEN');
  });
});

describe('createVerifier: claims and time', () => {
  it('rejects a token signed by a published kid with another key, and a token without the access claims', async () => {
    const issuer = await asymmetricIssuer('EdDSA');
    server = await jwksServer([issuer.publicJwk]);
    const verifier = createVerifier({ jwksUrl: server.url }, OPTIONS);
    const claims = decodeJwt(await issuer.tokens.issue(USER, 's', NOW));
    const { privateKey } = await generateKeyPair('EdDSA');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: issuer.kid }).sign(privateKey);
    expect(await codeOf(verifier.verify(forged))).toBe('INVALID_TOKEN');

    const hs = createVerifier({ secret: SECRET }, OPTIONS);
    const key = new TextEncoder().encode(SECRET);
    for (const drop of ['sub', 'username', 'role', 'sid', 'jti', 'type']) {
      const partial: Record<string, unknown> = { ...claims };
      delete partial[drop];
      const token = await new SignJWT(partial).setProtectedHeader({ alg: 'HS256' }).sign(key);
      expect(await codeOf(hs.verify(token)), drop).toBe('INVALID_TOKEN');
    }
    const superuser = await new SignJWT({ ...claims, role: 'root' }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    expect(await codeOf(hs.verify(superuser))).toBe('INVALID_TOKEN');
  });

  it('with the HS256 secret: accepts Gatekeeper tokens, refuses another secret, expired tokens and other issuers', async () => {
    const clock = manualClock();
    const verifier = createVerifier({ secret: SECRET }, { ...OPTIONS, now: clock.now });
    const token = await hs256Issuer().issue(USER, 'sid-9', NOW);
    expect(await verifier.verify(token)).toMatchObject({ sub: USER.id, sid: 'sid-9', role: 'regular' });

    const foreign = await hs256Issuer(SETTINGS, `${SECRET}-other`).issue(USER, 's', NOW);
    expect(await codeOf(verifier.verify(foreign))).toBe('INVALID_TOKEN');
    const noIssuer = await hs256Issuer({ ...SETTINGS, issuer: null } as never).issue(USER, 's', NOW);
    expect(await codeOf(verifier.verify(noIssuer))).toBe('INVALID_TOKEN');

    clock.advance(30 * 60);
    expect(await codeOf(verifier.verify(token))).toBe('TOKEN_EXPIRED');
  });

  it('clockToleranceSeconds accepts a token just past its exp, not later', async () => {
    const clock = manualClock();
    const verifier = createVerifier({ secret: SECRET }, { ...OPTIONS, now: clock.now, clockToleranceSeconds: 30 });
    const token = await hs256Issuer().issue(USER, 's', NOW);
    clock.advance(30 * 60 + 20);
    expect(await codeOf(verifier.verify(token))).toBe('OK');
    clock.advance(20);
    expect(await codeOf(verifier.verify(token))).toBe('TOKEN_EXPIRED');
  });

  it('no token is NOT_AUTHENTICATED; garbage and oversized tokens are INVALID_TOKEN; no message holds the token', async () => {
    const verifier = createVerifier({ secret: SECRET }, OPTIONS);
    expect(await codeOf(verifier.verify(''))).toBe('NOT_AUTHENTICATED');
    expect(await codeOf(verifier.verify(undefined))).toBe('NOT_AUTHENTICATED');
    for (const junk of ['abc', 'a.b.c', `${'x'.repeat(9000)}.y.z`, 'eyJhbGciOiJIUzI1NiJ9..']) {
      const error = await verifier.verify(junk).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GatekeeperError);
      expect((error as GatekeeperError).code).toBe('INVALID_TOKEN');
      expect((error as GatekeeperError).message).not.toContain(junk);
    }
  });
});

describe('createVerifier: JWKS failures and options', () => {
  it('an unreachable, failing or hanging JWKS is DATABASE_UNAVAILABLE with a retry hint, not a 401 code', async () => {
    const issuer = await asymmetricIssuer('EdDSA');
    const token = await issuer.tokens.issue(USER, 's', NOW);
    server = await jwksServer([issuer.publicJwk]);
    server.mode = 'fail';
    const failing = await createVerifier({ jwksUrl: server.url }, OPTIONS)
      .verify(token)
      .catch((e: unknown) => e);
    expect(failing).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryAfterSeconds: 5 });

    server.mode = 'hang';
    const hanging = createVerifier({ jwksUrl: server.url, timeoutMs: 100 }, OPTIONS);
    expect(await codeOf(hanging.verify(token))).toBe('DATABASE_UNAVAILABLE');

    const url = server.url;
    await server.close();
    server = undefined;
    expect(await codeOf(createVerifier({ jwksUrl: url }, OPTIONS).verify(token))).toBe('DATABASE_UNAVAILABLE');
  });

  it('refuses unusable options with a TypeError', () => {
    expect(() => createVerifier({ secret: 'short' })).toThrow(TypeError);
    expect(() => createVerifier({ secret: SECRET }, { algorithms: ['RS256'] })).toThrow(TypeError);
    expect(() => createVerifier({ jwksUrl: 'https://gk.test/jwks' }, { algorithms: ['HS256'] })).toThrow(TypeError);
    expect(() => createVerifier({ jwksUrl: 'https://gk.test/jwks' }, { algorithms: [] })).toThrow(TypeError);
    expect(() => createVerifier({ jwksUrl: 'not a url' })).toThrow(TypeError);
  });
});
