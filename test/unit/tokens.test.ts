import { SignJWT, decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { GatekeeperError } from '../../src/errors.js';
import { AccessTokens, hashRefreshToken, hs256Keys, newRefreshToken } from '../../src/security/tokens.js';

const SECRET = 'unit-test-secret-that-is-long-enough-for-hs256';
const user = { id: '00000000-0000-4000-8000-000000000001', username: 'alice', role: 'regular' as const };

function codeOf(promise: Promise<unknown>) {
  return promise.then(
    () => 'OK',
    (e: unknown) => (e instanceof GatekeeperError ? e.code : String(e)),
  );
}

describe('AccessTokens', () => {
  const now = new Date('2030-01-01T00:00:00Z');

  it('issues tokens with sub, username, role, type, sid, jti, iat, exp, iss and aud', async () => {
    const tokens = new AccessTokens(hs256Keys(SECRET), { accessTokenMinutes: 30, issuer: 'gk', audience: 'apps' });
    const jwt = await tokens.issue(user, 'session-1', now);
    expect(decodeJwt(jwt)).toMatchObject({
      sub: user.id,
      username: 'alice',
      role: 'regular',
      type: 'access',
      sid: 'session-1',
      iss: 'gk',
      aud: 'apps',
      iat: now.getTime() / 1000,
      exp: now.getTime() / 1000 + 1800,
    });
    expect(await tokens.verify(jwt, now)).toMatchObject({ sub: user.id, sid: 'session-1' });
  });

  it('rejects another issuer or audience, and expired tokens', async () => {
    const mine = new AccessTokens(hs256Keys(SECRET), { accessTokenMinutes: 30, issuer: 'gk', audience: 'apps' });
    const otherIssuer = new AccessTokens(hs256Keys(SECRET), {
      accessTokenMinutes: 30,
      issuer: 'evil',
      audience: 'apps',
    });
    const otherAudience = new AccessTokens(hs256Keys(SECRET), {
      accessTokenMinutes: 30,
      issuer: 'gk',
      audience: 'else',
    });
    expect(await codeOf(mine.verify(await otherIssuer.issue(user, 's', now), now))).toBe('INVALID_TOKEN');
    expect(await codeOf(mine.verify(await otherAudience.issue(user, 's', now), now))).toBe('INVALID_TOKEN');
    const later = new Date(now.getTime() + 31 * 60_000);
    expect(await codeOf(mine.verify(await mine.issue(user, 's', now), later))).toBe('TOKEN_EXPIRED');
  });

  it('accepts only the configured algorithm', async () => {
    const tokens = new AccessTokens(hs256Keys(SECRET), { accessTokenMinutes: 30, issuer: null, audience: null });
    const claims = decodeJwt(await tokens.issue(user, 's', now));
    const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(SECRET));
    expect(await codeOf(tokens.verify(hs512, now))).toBe('INVALID_TOKEN');
  });

  it('rejects tokens with missing or wrong claims even when correctly signed', async () => {
    const tokens = new AccessTokens(hs256Keys(SECRET), { accessTokenMinutes: 30, issuer: null, audience: null });
    const key = new TextEncoder().encode(SECRET);
    const iat = now.getTime() / 1000;
    for (const claims of [
      { sub: user.id, username: 'a', role: 'regular', sid: 's', jti: 'j' },
      { sub: user.id, username: 'a', role: 'root', sid: 's', jti: 'j', type: 'access' },
      { sub: user.id, username: 'a', role: 'regular', jti: 'j', type: 'access' },
    ]) {
      const jwt = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt(iat)
        .setExpirationTime(iat + 60)
        .sign(key);
      expect(await codeOf(tokens.verify(jwt, now))).toBe('INVALID_TOKEN');
    }
  });
});

describe('verified-token cache', () => {
  it('a token verified once still expires on time, and a changed byte is verified afresh', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const tokens = new AccessTokens(hs256Keys(SECRET), { accessTokenMinutes: 30, issuer: null, audience: null });
    const jwt = await tokens.issue(user, 's', now);
    expect((await tokens.verify(jwt, now)).sub).toBe(user.id);
    expect((await tokens.verify(jwt, new Date(now.getTime() + 60_000))).sub).toBe(user.id);
    expect(await codeOf(tokens.verify(jwt, new Date(now.getTime() + 31 * 60_000)))).toBe('TOKEN_EXPIRED');
    const [h, p, sig] = jwt.split('.') as [string, string, string];
    const flipped = `${h}.${p}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`;
    expect(await codeOf(tokens.verify(flipped, now))).toBe('INVALID_TOKEN');
  });

  it('returns a copy: a caller changing the claims does not change what the next request sees', async () => {
    const now = new Date();
    const tokens = new AccessTokens(hs256Keys(SECRET), { accessTokenMinutes: 30, issuer: null, audience: null });
    const jwt = await tokens.issue(user, 's', now);
    const first = await tokens.verify(jwt, now);
    first.role = 'admin';
    expect((await tokens.verify(jwt, now)).role).toBe('regular');
  });
});

describe('refresh tokens', () => {
  it('are 256-bit random, URL-safe, and stored only as SHA-256', () => {
    const a = newRefreshToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newRefreshToken()).not.toBe(a);
    expect(hashRefreshToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRefreshToken(a)).toBe(hashRefreshToken(a));
  });
});
