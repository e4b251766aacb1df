import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import {
  GatekeeperClient,
  GatekeeperClientError,
  type ClientFetch,
  type MfaChallenge,
  type TokenPair,
  type TokenResponse,
} from '../../src/client/index.js';
import { BACKENDS, STRONG_PASSWORD, startGatekeeper, type TestGatekeeper } from '../support/app.js';

/** GatekeeperClient against a real Gatekeeper on a real port (global fetch, real HTTP). */
/** The pair of a login without MFA (fails the test on a challenge). */
async function pairOf(answer: Promise<TokenResponse | MfaChallenge>): Promise<TokenResponse> {
  const body = await answer;
  if ('mfa_required' in body) throw new Error('unexpected MFA challenge');
  return body;
}

describe.each(BACKENDS)('GatekeeperClient against a running Gatekeeper (%s)', (backend) => {
  let gk: TestGatekeeper | undefined;
  afterEach(async () => {
    await gk?.close();
    gk = undefined;
  });

  /** A Gatekeeper listening on 127.0.0.1, and a fetch that counts requests per path. */
  async function start() {
    gk = await startGatekeeper(backend);
    await gk.app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(gk.app.server.address() as AddressInfo).port}`;
    const requests: string[] = [];
    const fetch: ClientFetch = (url, init) => {
      requests.push(`${init.method} ${new URL(url).pathname}`);
      return globalThis.fetch(url, init);
    };
    const client = (tokens?: TokenPair, onTokens?: (t: TokenPair | null) => void) =>
      new GatekeeperClient({ baseUrl, fetch, ...(tokens ? { tokens } : {}), ...(onTokens ? { onTokens } : {}) });
    return { gk, client, requests, count: (what: string) => requests.filter((r) => r === what).length };
  }

  it('register, login, me, updateMe and logout', async () => {
    const { client } = await start();
    const alice = client();
    const registered = await alice.register({ username: 'client_alice', password: STRONG_PASSWORD });
    expect(registered).toMatchObject({ username: 'client_alice', role: 'regular', is_active: true, metadata: {} });
    expect(registered).not.toHaveProperty('password_hash');

    const tokens = await pairOf(alice.login({ username: 'client_alice', password: STRONG_PASSWORD }));
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 1800 });
    expect(alice.tokens).toEqual({ access_token: tokens.access_token, refresh_token: tokens.refresh_token });
    expect(await alice.me()).toMatchObject({ id: registered.id, username: 'client_alice' });
    const updated = await alice.updateMe({ metadata: { theme: 'dark' }, email: 'alice@example.com' });
    expect(updated).toMatchObject({ metadata: { theme: 'dark' }, email: 'alice@example.com' });

    expect(await alice.logout()).toEqual({ message: 'Logged out.' });
    expect(alice.tokens).toBeNull();
    // The old pair is dead everywhere: its refresh fails too, so the pair is cleared and the 401 thrown.
    const stale = client(tokens);
    const error = await stale.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatekeeperClientError);
    expect(error).toMatchObject({ status: 401 });
    expect(stale.tokens).toBeNull();
  });

  it('sessions, ending one, and email verification calls', async () => {
    const { client } = await start();
    const bea = client();
    await bea.register({ username: 'client_bea', password: STRONG_PASSWORD, email: 'bea@example.com' });
    const other = client();
    await other.login({ username: 'client_bea', password: STRONG_PASSWORD });
    await bea.login({ username: 'client_bea', password: STRONG_PASSWORD });
    const sessions = await bea.sessions();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const theOther = sessions.find((s) => !s.current)!;
    expect(await bea.endSession(theOther.id)).toHaveProperty('message');
    expect(await other.me().catch((e: unknown) => e)).toMatchObject({ status: 401 });
    expect(await bea.endSession(theOther.id).catch((e: unknown) => e)).toMatchObject({
      status: 404,
      code: 'SESSION_NOT_FOUND',
    });
    expect((await bea.me()).email_verified).toBe(false);
    expect(await bea.requestEmailVerification()).toHaveProperty('message');
    expect(
      await client()
        .verifyEmail({ token: 'not-a-mailed-token' })
        .catch((e: unknown) => e),
    ).toMatchObject({
      status: 400,
      code: 'INVALID_TOKEN',
    });
  });

  it('an MFA account: login answers the challenge and keeps nothing; loginMfa keeps the pair', async () => {
    const { client, gk: app } = await start();
    const erin = client();
    await erin.register({ username: 'client_erin', password: STRONG_PASSWORD });
    await erin.login({ username: 'client_erin', password: STRONG_PASSWORD });
    const principal = await app.service.authenticate(erin.tokens!.access_token);
    const { secret } = await app.service.setupTotp(principal, STRONG_PASSWORD);
    await app.service.confirmTotp(principal, await generate({ secret }));
    await erin.logout();
    const challenge = await erin.login({ username: 'client_erin', password: STRONG_PASSWORD });
    expect(challenge).toMatchObject({ mfa_required: true, methods: ['totp', 'recovery_code'] });
    expect(erin.tokens).toBeNull();
    const wrong = await erin.loginMfa((challenge as MfaChallenge).mfa_token, '000000').catch((e: unknown) => e);
    expect(wrong).toMatchObject({ status: 401, code: 'INVALID_CODE' });
    // The confirming code's step is spent: the next step's code (one step of drift ahead) signs in.
    const next = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
    const pair = await erin.loginMfa((challenge as MfaChallenge).mfa_token, next);
    expect(erin.tokens).toEqual({ access_token: pair.access_token, refresh_token: pair.refresh_token });
    expect(await erin.me()).toMatchObject({ username: 'client_erin', mfa_enabled: true });
  });

  it('an invalid access token is refreshed once and the call repeated', async () => {
    const { client, count } = await start();
    await client().register({ username: 'client_bob', password: STRONG_PASSWORD });
    const real = await pairOf(client().login({ username: 'client_bob', password: STRONG_PASSWORD }));
    const changes: (TokenPair | null)[] = [];
    const bob = client({ access_token: 'garbage', refresh_token: real.refresh_token }, (t) => changes.push(t));
    expect(await bob.me()).toMatchObject({ username: 'client_bob' });
    expect(count('POST /auth/refresh')).toBe(1);
    expect(count('GET /auth/me')).toBe(2);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.refresh_token).not.toBe(real.refresh_token);
    expect(bob.tokens).toEqual(changes[0]);
  });

  it('five concurrent calls on an invalid access token make exactly one /auth/refresh request', async () => {
    const { client, count } = await start();
    await client().register({ username: 'client_carol', password: STRONG_PASSWORD });
    const real = await pairOf(client().login({ username: 'client_carol', password: STRONG_PASSWORD }));
    const carol = client({ access_token: 'not-a-jwt', refresh_token: real.refresh_token });
    const users = await Promise.all(Array.from({ length: 5 }, () => carol.me()));
    expect(users.map((u) => u.username)).toEqual(Array(5).fill('client_carol'));
    expect(count('POST /auth/refresh')).toBe(1);
    expect(count('GET /auth/me')).toBe(10);
  });

  it('admin calls: list with total, get, create, update, yapcoins, revoke, stats, audit, delete', async () => {
    const { gk, client } = await start();
    await gk.service.ensureAdmin({ username: 'client_root', password: STRONG_PASSWORD, email: null });
    const admin = client();
    await admin.login({ username: 'client_root', password: STRONG_PASSWORD });
    for (const name of ['client_u1', 'client_u2', 'client_u3']) {
      await client().register({ username: name, password: STRONG_PASSWORD });
    }
    const page = await admin.listUsers({ limit: 2 });
    expect(page.total).toBe(4);
    expect(page.users).toHaveLength(2);
    expect((await admin.listUsers({ q: 'client_u', skip: 1 })).total).toBe(3);

    expect(await admin.getUser('client_u1')).toMatchObject({ username: 'client_u1' });
    const guest = await admin.createUser({ username: 'client_g', password: STRONG_PASSWORD, role: 'guest' });
    expect(guest.role).toBe('guest');
    expect(await admin.updateUser('client_g', { role: 'regular' })).toMatchObject({ role: 'regular' });
    expect(await admin.addYapcoins('client_g', 7)).toEqual({ username: 'client_g', yapcoin_balance: 7 });
    expect((await admin.revokeTokens('client_u1')).message).toMatch(/^Revoked/);
    expect(await admin.stats()).toMatchObject({ users_total: 5, users_by_role: { admin: 1, regular: 4, guest: 0 } });
    const events = await admin.audit({ event: 'register', limit: 10 });
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events[0]).toMatchObject({ event: 'register', id: expect.any(Number) });
    expect(await admin.deleteUser('client_g')).toEqual({ message: 'User deleted.' });
    await expect(admin.getUser('client_g')).rejects.toMatchObject({ status: 404, code: 'USER_NOT_FOUND' });
    await expect(client(admin.tokens!).stats()).resolves.toMatchObject({ users_total: 4 });
  });

  it('typed errors: wrong password, taken username, wrong current password, non-admin', async () => {
    const { client, count } = await start();
    const dave = client();
    await dave.register({ username: 'client_dave', password: STRONG_PASSWORD });
    const wrong = await dave.login({ username: 'client_dave', password: 'Wr0ng-Password!' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(GatekeeperClientError);
    expect(wrong).toMatchObject({ status: 401, code: 'INVALID_CREDENTIALS', detail: expect.any(String) });
    expect(dave.tokens).toBeNull();

    const taken = await dave.register({ username: 'CLIENT_DAVE', password: STRONG_PASSWORD }).catch((e: unknown) => e);
    expect(taken).toMatchObject({ status: 409, code: 'USERNAME_TAKEN' });
    const invalid = await dave.register({ username: 'x', password: STRONG_PASSWORD }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 422, code: 'VALIDATION_ERROR' });
    expect((invalid as GatekeeperClientError).errors?.[0]?.field).toBe('username');

    await dave.login({ username: 'client_dave', password: STRONG_PASSWORD });
    await expect(dave.changePassword('Wr0ng-Password!', 'N3w-Password!')).rejects.toMatchObject({
      status: 400,
      code: 'INVALID_PASSWORD',
    });
    await expect(dave.listUsers()).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(count('POST /auth/refresh')).toBe(0);
    const before = dave.tokens;
    await dave.changePassword(STRONG_PASSWORD, 'N3w-Password!');
    expect(dave.tokens).not.toEqual(before);
    expect(await dave.me()).toMatchObject({ username: 'client_dave' });
  });
});
