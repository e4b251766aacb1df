import { SignJWT, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { KeyRing, rotateSigningKey } from '../../src/auth/key-ring.js';
import { GatekeeperError } from '../../src/errors.js';
import { RETIRED_KEY_GRACE_SECONDS, generateSigningKey } from '../../src/security/signing-keys.js';
import { AccessTokens } from '../../src/security/tokens.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { type Store } from '../../src/store/store.js';
import { testClock } from '../support/clock.js';
import { SIGNING_ALGORITHMS } from '../../src/core/algorithms.js';

const user = { id: '00000000-0000-4000-8000-000000000001', username: 'alice', role: 'regular' as const };
const settings = { accessTokenMinutes: 30, issuer: 'gk', audience: 'apps' };

function codeOf(promise: Promise<unknown>) {
  return promise.then(
    () => 'OK',
    (e: unknown) => (e instanceof GatekeeperError ? e.code : String(e)),
  );
}

async function ringOn(store: Store, algorithm: (typeof SIGNING_ALGORITHMS)[number], clock = testClock()) {
  const ring = await KeyRing.open({ store, algorithm, accessTokenSeconds: 1800, now: clock.now, refreshSeconds: 60 });
  return { ring, tokens: new AccessTokens(ring, settings), clock };
}

describe.each(SIGNING_ALGORITHMS)('key ring (%s)', (algorithm) => {
  it('creates one key on first start, signs with its kid and publishes only its public half', async () => {
    const store = new MemoryStore();
    const { ring, tokens, clock } = await ringOn(store, algorithm);
    const jwt = await tokens.issue(user, 'sid-1', clock.now());
    const header = decodeProtectedHeader(jwt);
    const [stored] = await store.listSigningKeys(algorithm);
    expect(header).toMatchObject({ alg: algorithm, kid: stored!.kid, typ: 'JWT' });
    expect(await tokens.verify(jwt, clock.now())).toMatchObject({ sub: user.id, sid: 'sid-1' });
    const jwks = await ring.jwks();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid: stored!.kid, alg: algorithm, use: 'sig' });
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(jwks.keys[0]).not.toHaveProperty(secret);
  });

  it("a second ring on the same store uses the same key, and verifies the first one's tokens", async () => {
    const store = new MemoryStore();
    const a = await ringOn(store, algorithm);
    const b = await ringOn(store, algorithm);
    expect(await store.listSigningKeys(algorithm)).toHaveLength(1);
    const jwt = await a.tokens.issue(user, 's', a.clock.now());
    expect(await codeOf(b.tokens.verify(jwt, a.clock.now()))).toBe('OK');
  });

  it('after a rotation, old tokens still verify, new tokens carry the new kid, and the old key expires later', async () => {
    const store = new MemoryStore();
    const clock = testClock();
    const { ring, tokens } = await ringOn(store, algorithm, clock);
    const before = await tokens.issue(user, 's', clock.now());
    const oldKid = decodeProtectedHeader(before).kid;

    const rotation = await rotateSigningKey(store, algorithm, { now: clock.now() });
    expect(rotation.previousKid).toBe(oldKid);
    // This ring has not reloaded yet: it keeps signing with the old key, which stays valid.
    expect(decodeProtectedHeader(await tokens.issue(user, 's', clock.now())).kid).toBe(oldKid);
    clock.advance(61);
    const after = await tokens.issue(user, 's', clock.now());
    expect(decodeProtectedHeader(after).kid).toBe(rotation.kid);
    expect(await codeOf(tokens.verify(before, clock.now()))).toBe('OK');
    expect((await ring.jwks()).keys.map((k) => (k as { kid: string }).kid).sort()).toEqual(
      [oldKid, rotation.kid].sort(),
    );

    // Retired keys verify for the access-token lifetime plus a grace, then disappear.
    clock.advance(1800 + RETIRED_KEY_GRACE_SECONDS);
    expect((await ring.jwks()).keys.map((k) => (k as { kid: string }).kid)).toEqual([rotation.kid]);
    expect(await codeOf(tokens.verify(after, clock.now()))).toBe('TOKEN_EXPIRED');
  });

  it('a token with a kid made by another ring reloads the keys and verifies', async () => {
    const store = new MemoryStore();
    const clock = testClock();
    const a = await ringOn(store, algorithm, clock);
    const b = await ringOn(store, algorithm, clock);
    await rotateSigningKey(store, algorithm, { now: clock.now() });
    clock.advance(61);
    const jwt = await a.tokens.issue(user, 's', clock.now());
    // b loaded its keys before the rotation; the unknown kid makes it look again.
    expect(await codeOf(b.tokens.verify(jwt, clock.now()))).toBe('OK');
  });

  it('rejects tokens of another key, without a kid, with another algorithm, issuer or audience', async () => {
    const store = new MemoryStore();
    const { tokens, clock } = await ringOn(store, algorithm);
    const good = await tokens.issue(user, 's', clock.now());
    const [stored] = await store.listSigningKeys(algorithm);
    const claims = { username: 'alice', role: 'admin', type: 'access', sid: 's', jti: 'j' };
    const iat = Math.floor(clock.now().getTime() / 1000);
    const sign = (key: Parameters<SignJWT['sign']>[0], header: Record<string, unknown>, iss = 'gk', aud = 'apps') =>
      new SignJWT(claims)
        .setProtectedHeader(header as never)
        .setSubject(user.id)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 600)
        .setIssuer(iss)
        .setAudience(aud)
        .sign(key);

    // Another key pair of the same algorithm, claiming the real kid or a kid of its own.
    const foreign = await generateKeyPair(algorithm);
    expect(
      await codeOf(tokens.verify(await sign(foreign.privateKey, { alg: algorithm, kid: stored!.kid }), clock.now())),
    ).toBe('INVALID_TOKEN');
    expect(
      await codeOf(tokens.verify(await sign(foreign.privateKey, { alg: algorithm, kid: 'other' }), clock.now())),
    ).toBe('INVALID_TOKEN');
    expect(await codeOf(tokens.verify(await sign(foreign.privateKey, { alg: algorithm }), clock.now()))).toBe(
      'INVALID_TOKEN',
    );
    // The classic confusion: HS256 "signed" with the public key as the HMAC secret.
    const publicBytes = new TextEncoder().encode(JSON.stringify(await exportJWK(foreign.publicKey)));
    expect(await codeOf(tokens.verify(await sign(publicBytes, { alg: 'HS256', kid: stored!.kid }), clock.now()))).toBe(
      'INVALID_TOKEN',
    );
    // alg "none" is never accepted.
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid: stored!.kid })).toString('base64url')}.${good.split('.')[1]}.`;
    expect(await codeOf(tokens.verify(unsigned, clock.now()))).toBe('INVALID_TOKEN');
    // A correctly signed token for another issuer or audience.
    const other = await KeyRing.open({ store, algorithm, accessTokenSeconds: 1800, now: clock.now });
    const otherIssuer = new AccessTokens(other, { ...settings, issuer: 'evil' });
    const otherAudience = new AccessTokens(other, { ...settings, audience: 'else' });
    expect(await codeOf(tokens.verify(await otherIssuer.issue(user, 's', clock.now()), clock.now()))).toBe(
      'INVALID_TOKEN',
    );
    expect(await codeOf(tokens.verify(await otherAudience.issue(user, 's', clock.now()), clock.now()))).toBe(
      'INVALID_TOKEN',
    );
  });
});

describe('key ring across algorithms and failures', () => {
  it('a token of another asymmetric algorithm is rejected even with a known kid', async () => {
    const store = new MemoryStore();
    const clock = testClock();
    const ed = await ringOn(store, 'EdDSA', clock);
    const es = await ringOn(store, 'ES256', clock);
    const jwt = await es.tokens.issue(user, 's', clock.now());
    expect(await codeOf(ed.tokens.verify(jwt, clock.now()))).toBe('INVALID_TOKEN');
  });

  it('unknown kids reload the keys at most once a second', async () => {
    const store = new MemoryStore();
    const clock = testClock();
    const { ring } = await ringOn(store, 'EdDSA', clock);
    let reads = 0;
    const list = store.listSigningKeys.bind(store);
    store.listSigningKeys = async (algorithm) => {
      reads += 1;
      return list(algorithm);
    };
    clock.advance(2);
    for (let i = 0; i < 20; i += 1) expect(await ring.verificationKey(`forged-${i}`)).toBeNull();
    expect(reads).toBe(1);
    clock.advance(1);
    await ring.verificationKey('forged-again');
    expect(reads).toBe(2);
  });

  it('keeps signing with the loaded keys when the store cannot be read for a reload', async () => {
    const store = new MemoryStore();
    const clock = testClock();
    const { tokens } = await ringOn(store, 'ES256', clock);
    store.listSigningKeys = async () => {
      throw new GatekeeperError('DATABASE_UNAVAILABLE', 'down');
    };
    clock.advance(120);
    expect(await codeOf(tokens.issue(user, 's', clock.now()))).toBe('OK');
  });

  it('rotateSigningKey() refuses HS256 and records key.rotate in the audit trail', async () => {
    const store = new MemoryStore();
    await expect(rotateSigningKey(store, 'HS256')).rejects.toThrow(TypeError);
    const first = await rotateSigningKey(store, 'RS256', { by: 'ops' });
    expect(first.previousKid).toBeNull();
    const second = await rotateSigningKey(store, 'RS256');
    const events = await store.listAuditEvents({ event: 'key.rotate', limit: 10 });
    expect(events.map((e) => e.detail)).toEqual([
      { algorithm: 'RS256', kid: second.kid, previous_kid: first.kid, by: null },
      { algorithm: 'RS256', kid: first.kid, previous_kid: null, by: 'ops' },
    ]);
    expect(JSON.stringify(events)).not.toContain('"d"');
  });

  it('generated kids are RFC 7638 thumbprints, distinct per key', async () => {
    const a = await generateSigningKey('EdDSA', new Date());
    const b = await generateSigningKey('EdDSA', new Date());
    expect(a.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.kid).not.toBe(b.kid);
    expect(a.privateJwk).toHaveProperty('d');
    expect(a.publicJwk).not.toHaveProperty('d');
  });
});
