import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GatekeeperError } from '../../src/errors.js';
import type { NewOAuthClient, NewSigningKey, NewUser, Store } from '../../src/store/store.js';
import type { SigningAlgorithm } from '../../src/core/algorithms.js';
import { testClock } from '../support/clock.js';

/** What an implementation's test file hands the suite. */
export interface StoreHarness {
  /** Read again after every reset(), so a harness may hand out a new instance. */
  readonly store: Store;
  /** Empties every table/collection so each test starts from nothing. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Opens one implementation; `now` is the clock the store must stamp its own times with. */
export type OpenHarness = (now: () => Date) => Promise<StoreHarness>;

const HOUR = 3_600_000;
/** Where the store's clock stands at the start of every test. */
const CLOCK_START = new Date('2031-05-06T07:08:09.010Z');

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toSatisfy((err: unknown) => err instanceof GatekeeperError && err.code === code);
}

let counter = 0;
function newUser(overrides: Partial<NewUser> = {}): NewUser {
  counter += 1;
  return {
    username: `user${counter}`,
    passwordHash: `$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA${counter}`,
    ...overrides,
  };
}

let keyCounter = 0;
function newKey(algorithm: SigningAlgorithm, createdAt: Date): NewSigningKey {
  keyCounter += 1;
  return {
    kid: `kid-${keyCounter}-${randomUUID()}`,
    algorithm,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: `public-${keyCounter}` },
    privateJwk: { kty: 'OKP', crv: 'Ed25519', x: `public-${keyCounter}`, d: `private-${keyCounter}` },
    createdAt,
  };
}

function newSession(userId: string, hash: string, now = new Date()) {
  return {
    id: randomUUID(),
    userId,
    refreshTokenHash: hash,
    createdAt: now,
    expiresAt: new Date(now.getTime() + HOUR),
  };
}

/**
 * The storage contract as tests: every Store implementation runs this same suite
 * (memory, PostgreSQL, and the cached store production uses on PostgreSQL).
 *
 * @example
 * describeStore('memory', async (now) => ({ store: new MemoryStore({ now }), reset: ..., close: ... }));
 */
export function describeStore(name: string, openHarness: OpenHarness): void {
  describe(`store contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;
    const clock = testClock(CLOCK_START);

    beforeAll(async () => {
      harness = await openHarness(clock.now);
      store = harness.store;
    });
    afterAll(async () => {
      await harness?.close();
    });
    beforeEach(async () => {
      await harness.reset();
      store = harness.store;
      clock.set(CLOCK_START);
    });

    describe('users', () => {
      it('createUser() returns the stored record with defaults filled in', async () => {
        const user = await store.createUser({ username: 'Alice', passwordHash: 'h1', email: 'Alice@Example.com' });
        expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(user).toMatchObject({
          username: 'Alice',
          passwordHash: 'h1',
          role: 'regular',
          email: 'Alice@Example.com',
          profilePictureUrl: null,
          yapcoinBalance: 0,
          isActive: true,
          metadata: {},
        });
        expect(user.createdAt).toEqual(CLOCK_START);
        expect(user.updatedAt).toEqual(CLOCK_START);
        expect(await store.getUserById(user.id)).toEqual(user);
      });

      it('emailVerified: false at creation, set by a patch, and lost when the address changes', async () => {
        const user = await store.createUser(newUser({ email: 'Ver@Example.com' }));
        expect(user.emailVerified).toBe(false);
        expect((await store.updateUser(user.id, { emailVerified: true }))?.emailVerified).toBe(true);
        // Every read says so, and a change of case only is the same address.
        expect((await store.getUserByLogin('ver@example.com'))?.emailVerified).toBe(true);
        expect((await store.updateUser(user.id, { email: 'VER@example.com' }))?.emailVerified).toBe(true);
        expect((await store.listUsers({ skip: 0, limit: 10, q: 'ver@' })).users[0]?.emailVerified).toBe(true);
        // Another address is unconfirmed, unless the same patch confirms it.
        expect((await store.updateUser(user.id, { email: 'other@example.com' }))?.emailVerified).toBe(false);
        const vouched = await store.updateUser(user.id, { email: 'third@example.com', emailVerified: true });
        expect(vouched).toMatchObject({ email: 'third@example.com', emailVerified: true });
        // Going back to an address confirmed earlier does not bring its confirmation back.
        expect((await store.updateUser(user.id, { email: 'other@example.com' }))?.emailVerified).toBe(false);
        expect((await store.updateUser(user.id, { email: 'third@example.com' }))?.emailVerified).toBe(true);
        expect((await store.updateUser(user.id, { emailVerified: false }))?.emailVerified).toBe(false);
        // Without an address there is nothing to confirm.
        const none = await store.createUser(newUser());
        expect((await store.updateUser(none.id, { emailVerified: true }))?.emailVerified).toBe(false);
        expect((await store.getUserById(none.id))?.emailVerified).toBe(false);
      });

      it('keeps id, timestamps, role and metadata given on import', async () => {
        const id = randomUUID();
        const createdAt = new Date('2024-01-02T03:04:05.678Z');
        const user = await store.createUser(
          newUser({
            id,
            createdAt,
            updatedAt: createdAt,
            role: 'admin',
            metadata: { a: [1, { b: 'c' }] },
            yapcoinBalance: 7,
          }),
        );
        expect(user).toMatchObject({ id, role: 'admin', yapcoinBalance: 7, metadata: { a: [1, { b: 'c' }] } });
        const read = await store.getUserById(id);
        expect(read?.createdAt.toISOString()).toBe('2024-01-02T03:04:05.678Z');
        expect(read?.updatedAt.toISOString()).toBe('2024-01-02T03:04:05.678Z');
      });

      it('usernames are unique case-insensitively and keep their spelling', async () => {
        await store.createUser(newUser({ username: 'Bob' }));
        await expectCode(store.createUser(newUser({ username: 'bOB' })), 'USERNAME_TAKEN');
        expect((await store.getUserByUsername('BOB'))?.username).toBe('Bob');
      });

      it('emails are unique case-insensitively; several users may have no email', async () => {
        await store.createUser(newUser({ email: 'x@example.com' }));
        await expectCode(store.createUser(newUser({ email: 'X@EXAMPLE.COM' })), 'EMAIL_TAKEN');
        await store.createUser(newUser({ email: null }));
        await store.createUser(newUser({}));
        expect((await store.userStats()).total).toBe(3);
      });

      it('getUserByLogin() finds by username or by email, ignoring case', async () => {
        const user = await store.createUser(newUser({ username: 'carol', email: 'Carol@Example.com' }));
        expect((await store.getUserByLogin('CAROL'))?.id).toBe(user.id);
        expect((await store.getUserByLogin('carol@example.COM'))?.id).toBe(user.id);
        expect(await store.getUserByLogin('nobody')).toBeNull();
        expect(await store.getUserByLogin('nobody@example.com')).toBeNull();
      });

      it('lookups of absent users return null', async () => {
        expect(await store.getUserById(randomUUID())).toBeNull();
        expect(await store.getUserByUsername('ghost')).toBeNull();
        expect(await store.updateUser(randomUUID(), { isActive: false })).toBeNull();
        expect(await store.deleteUser(randomUUID())).toBe(false);
        expect(await store.addToBalance(randomUUID(), 1)).toBeNull();
      });

      it('updateUser() applies the patch, bumps updatedAt and leaves the rest', async () => {
        const user = await store.createUser(newUser({ email: 'old@example.com', metadata: { keep: 1 } }));
        clock.advance(5);
        const updated = await store.updateUser(user.id, {
          username: 'renamed',
          email: 'new@example.com',
          profilePictureUrl: 'https://example.com/p.png',
          metadata: { theme: 'dark' },
          passwordHash: 'h2',
        });
        expect(updated).toMatchObject({
          id: user.id,
          username: 'renamed',
          email: 'new@example.com',
          profilePictureUrl: 'https://example.com/p.png',
          metadata: { theme: 'dark' },
          passwordHash: 'h2',
          role: 'regular',
          isActive: true,
        });
        expect(updated!.updatedAt.getTime()).toBeGreaterThan(user.updatedAt.getTime());
        expect(updated!.updatedAt).toEqual(clock.now());
        expect(updated!.createdAt.getTime()).toBe(user.createdAt.getTime());
        expect(await store.getUserByUsername(user.username)).toBeNull();
        expect(await store.getUserByLogin('new@example.com')).toMatchObject({ id: user.id });
        expect(await store.getUserByLogin('old@example.com')).toBeNull();
      });

      it('updateUser() can clear the email and frees it for others', async () => {
        const user = await store.createUser(newUser({ email: 'free@example.com' }));
        expect((await store.updateUser(user.id, { email: null }))?.email).toBeNull();
        await store.createUser(newUser({ email: 'free@example.com' }));
      });

      it('updateUser() refuses a username or email taken by someone else, but not the own one in other case', async () => {
        await store.createUser(newUser({ username: 'taken', email: 'taken@example.com' }));
        const user = await store.createUser(newUser({ username: 'mine', email: 'mine@example.com' }));
        await expectCode(store.updateUser(user.id, { username: 'TAKEN' }), 'USERNAME_TAKEN');
        await expectCode(store.updateUser(user.id, { email: 'Taken@example.com' }), 'EMAIL_TAKEN');
        expect((await store.updateUser(user.id, { username: 'MINE', email: 'MINE@example.com' }))?.username).toBe(
          'MINE',
        );
      });

      it('the last active admin cannot be demoted, deactivated or deleted', async () => {
        const admin = await store.createUser(newUser({ role: 'admin' }));
        await expectCode(store.updateUser(admin.id, { role: 'regular' }), 'LAST_ADMIN');
        await expectCode(store.updateUser(admin.id, { isActive: false }), 'LAST_ADMIN');
        await expectCode(store.deleteUser(admin.id), 'LAST_ADMIN');
        expect(await store.countActiveAdmins()).toBe(1);
        const second = await store.createUser(newUser({ role: 'admin' }));
        expect(await store.countActiveAdmins()).toBe(2);
        expect((await store.updateUser(admin.id, { role: 'guest' }))?.role).toBe('guest');
        await expectCode(store.deleteUser(second.id), 'LAST_ADMIN');
      });

      it('an inactive admin does not count as the remaining admin', async () => {
        const active = await store.createUser(newUser({ role: 'admin' }));
        await store.createUser(newUser({ role: 'admin', isActive: false }));
        expect(await store.countActiveAdmins()).toBe(1);
        await expectCode(store.deleteUser(active.id), 'LAST_ADMIN');
      });

      it('concurrent demotions of the only two admins leave one admin', async () => {
        const a = await store.createUser(newUser({ role: 'admin' }));
        const b = await store.createUser(newUser({ role: 'admin' }));
        const results = await Promise.allSettled([
          store.updateUser(a.id, { role: 'regular' }),
          store.updateUser(b.id, { role: 'regular' }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(await store.countActiveAdmins()).toBe(1);
      });

      it('deleteUser() removes the user and their sessions', async () => {
        const a = await store.createUser(newUser({}));
        await store.createUser(newUser({ role: 'admin' }));
        const session = await store.createSession(newSession(a.id, 'hash-del'));
        expect(await store.deleteUser(a.id)).toBe(true);
        expect(await store.getUserById(a.id)).toBeNull();
        expect(await store.getSession(session.id)).toBeNull();
        await store.createUser(newUser({ username: a.username }));
      });

      it('listUsers() orders by creation, paginates, filters and counts', async () => {
        const base = Date.parse('2025-01-01T00:00:00Z');
        for (let i = 0; i < 7; i += 1) {
          await store.createUser(
            newUser({
              username: `list_${i}`,
              email: i % 2 === 0 ? `even${i}@Example.org` : null,
              role: i === 0 ? 'admin' : i < 3 ? 'guest' : 'regular',
              isActive: i !== 6,
              createdAt: new Date(base + i * 1000),
            }),
          );
        }
        const page = await store.listUsers({ skip: 2, limit: 3 });
        expect(page.total).toBe(7);
        expect(page.users.map((u) => u.username)).toEqual(['list_2', 'list_3', 'list_4']);
        expect((await store.listUsers({ skip: 0, limit: 100, role: 'guest' })).users.map((u) => u.username)).toEqual([
          'list_1',
          'list_2',
        ]);
        expect((await store.listUsers({ skip: 0, limit: 100, isActive: false })).total).toBe(1);
        const byEmail = await store.listUsers({ skip: 0, limit: 100, q: 'EXAMPLE.ORG' });
        expect(byEmail.total).toBe(4);
        const byName = await store.listUsers({ skip: 0, limit: 1, q: 'LIST_' });
        expect(byName.total).toBe(7);
        expect(byName.users).toHaveLength(1);
      });

      it('listUsers() treats % and _ in the search text literally', async () => {
        await store.createUser(newUser({ username: 'a_b' }));
        await store.createUser(newUser({ username: 'axb' }));
        expect((await store.listUsers({ skip: 0, limit: 10, q: '_' })).users.map((u) => u.username)).toEqual(['a_b']);
        expect((await store.listUsers({ skip: 0, limit: 10, q: '%' })).total).toBe(0);
      });

      it('addToBalance() adds and subtracts, refusing to go below zero', async () => {
        const user = await store.createUser(newUser({}));
        expect(await store.addToBalance(user.id, 10)).toBe(10);
        clock.advance(60);
        expect(await store.addToBalance(user.id, -4)).toBe(6);
        await expectCode(store.addToBalance(user.id, -7), 'INSUFFICIENT_BALANCE');
        const read = await store.getUserById(user.id);
        expect(read?.yapcoinBalance).toBe(6);
        expect(read?.updatedAt).toEqual(clock.now());
      });

      it('concurrent balance changes lose no update', async () => {
        const user = await store.createUser(newUser({ yapcoinBalance: 10 }));
        await Promise.all(Array.from({ length: 40 }, (_, i) => store.addToBalance(user.id, i % 4 === 0 ? -1 : 2)));
        expect((await store.getUserById(user.id))?.yapcoinBalance).toBe(10 + 30 * 2 - 10);
      });

      it('concurrent creation of one username stores exactly one user', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () => store.createUser({ username: 'racer', passwordHash: 'h' })),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect((r.reason as GatekeeperError).code).toBe('USERNAME_TAKEN');
        }
      });

      it('userStats() counts users, active users and roles', async () => {
        await store.createUser(newUser({ role: 'admin' }));
        await store.createUser(newUser({ role: 'guest', isActive: false }));
        await store.createUser(newUser({}));
        expect(await store.userStats()).toEqual({ total: 3, active: 2, byRole: { admin: 1, regular: 1, guest: 1 } });
      });

      it('returned records are copies: mutating one does not change the store', async () => {
        const user = await store.createUser(newUser({ metadata: { n: 1 } }));
        user.metadata.n = 2;
        user.username = 'mutated';
        const read = await store.getUserById(user.id);
        expect(read?.metadata).toEqual({ n: 1 });
        expect(read?.username).not.toBe('mutated');
      });
    });

    describe('sessions and refresh tokens', () => {
      it('createSession() stores a live session', async () => {
        const user = await store.createUser(newUser({}));
        const input = newSession(user.id, 'h-create');
        const session = await store.createSession(input);
        expect(session).toMatchObject({ id: input.id, userId: user.id, revokedAt: null, revokedReason: null });
        expect((await store.getSession(input.id))?.expiresAt.getTime()).toBe(input.expiresAt.getTime());
        expect((await store.findSessionByRefreshToken('h-create'))?.id).toBe(input.id);
        expect(await store.countActiveSessions(new Date())).toBe(1);
      });

      it('rotateRefreshToken() rotates once, then reports reuse of the old token', async () => {
        const user = await store.createUser(newUser({}));
        const now = new Date();
        const session = await store.createSession(newSession(user.id, 'r1', now));
        const later = new Date(now.getTime() + 2 * HOUR);
        const first = await store.rotateRefreshToken('r1', 'r2', later, now);
        expect(first).toMatchObject({ status: 'rotated', session: { id: session.id } });
        if (first.status === 'rotated') expect(first.session.expiresAt.getTime()).toBe(later.getTime());
        expect(await store.rotateRefreshToken('r1', 'r3', later, now)).toMatchObject({
          status: 'reused',
          session: { id: session.id, userId: user.id },
        });
        expect((await store.rotateRefreshToken('r2', 'r4', later, now)).status).toBe('rotated');
      });

      it('rotateRefreshToken() refuses unknown, expired and revoked tokens', async () => {
        const user = await store.createUser(newUser({}));
        const now = new Date();
        const later = new Date(now.getTime() + HOUR);
        expect(await store.rotateRefreshToken('nope', 'x', later, now)).toEqual({ status: 'invalid' });
        await store.createSession(newSession(user.id, 'exp', now));
        expect((await store.rotateRefreshToken('exp', 'x1', later, new Date(now.getTime() + 2 * HOUR))).status).toBe(
          'invalid',
        );
        const revoked = await store.createSession(newSession(user.id, 'rev', now));
        expect(await store.revokeSession(revoked.id, 'logout', now)).toBe(true);
        expect(await store.revokeSession(revoked.id, 'logout', now)).toBe(false);
        expect((await store.rotateRefreshToken('rev', 'x2', later, now)).status).toBe('invalid');
      });

      it('concurrent rotations of one token: exactly one rotates', async () => {
        const user = await store.createUser(newUser({}));
        const now = new Date();
        await store.createSession(newSession(user.id, 'race', now));
        const later = new Date(now.getTime() + HOUR);
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => store.rotateRefreshToken('race', `race-${i}`, later, now)),
        );
        expect(results.filter((r) => r.status === 'rotated')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'reused')).toHaveLength(5);
      });

      it('revokeSession() records when and why', async () => {
        const user = await store.createUser(newUser({}));
        const session = await store.createSession(newSession(user.id, 'why'));
        const at = new Date('2030-01-01T00:00:00.000Z');
        await store.revokeSession(session.id, 'logout', at);
        expect(await store.getSession(session.id)).toMatchObject({ revokedAt: at, revokedReason: 'logout' });
        expect(await store.revokeSession(randomUUID(), 'logout', at)).toBe(false);
      });

      it('revokeUserSessions() revokes every live session of that user only', async () => {
        const a = await store.createUser(newUser({}));
        const b = await store.createUser(newUser({}));
        const now = new Date();
        await store.createSession(newSession(a.id, 'a1', now));
        await store.createSession(newSession(a.id, 'a2', now));
        const other = await store.createSession(newSession(b.id, 'b1', now));
        expect(await store.revokeUserSessions(a.id, 'admin', now)).toBe(2);
        expect(await store.revokeUserSessions(a.id, 'admin', now)).toBe(0);
        expect((await store.getSession(other.id))?.revokedAt).toBeNull();
        expect(await store.countActiveSessions(now)).toBe(1);
      });

      it('cleanup() removes expired tokens and dead sessions, keeping live ones', async () => {
        const user = await store.createUser(newUser({}));
        const now = new Date();
        const live = await store.createSession(newSession(user.id, 'live', now));
        const dead = await store.createSession(newSession(user.id, 'dead', now));
        await store.revokeSession(dead.id, 'logout', now);
        const removed = await store.cleanup(now);
        expect(removed).toBeGreaterThanOrEqual(1);
        expect(await store.getSession(dead.id)).toBeNull();
        expect(await store.getSession(live.id)).not.toBeNull();
        expect(await store.cleanup(new Date(now.getTime() + 3 * HOUR))).toBeGreaterThanOrEqual(1);
        expect(await store.getSession(live.id)).toBeNull();
        expect(await store.cleanup(new Date(now.getTime() + 3 * HOUR))).toBe(0);
      });
      it('createSession() keeps the address, user agent and absolute end; last used is the login', async () => {
        const user = await store.createUser(newUser({}));
        const now = new Date('2031-01-02T03:04:05.000Z');
        const absoluteExpiresAt = new Date(now.getTime() + 30 * HOUR);
        const input = {
          ...newSession(user.id, 'd1', now),
          ip: '2001:db8::1',
          userAgent: 'Firefox/140',
          absoluteExpiresAt,
        };
        const session = await store.createSession(input);
        const expected = { ip: '2001:db8::1', userAgent: 'Firefox/140', lastUsedAt: now, absoluteExpiresAt };
        expect(session).toMatchObject(expected);
        expect(await store.getSession(input.id)).toMatchObject(expected);
        // Without them (a library caller of the store): nulls, and no absolute end.
        const bare = await store.createSession(newSession(user.id, 'd2', now));
        expect(bare).toMatchObject({ ip: null, userAgent: null, absoluteExpiresAt: null, lastUsedAt: now });
      });

      it('createSession() never lets a session or its first token outlive its absolute end', async () => {
        const user = await store.createUser(newUser({}));
        const now = new Date('2031-01-02T03:04:05.000Z');
        const absoluteExpiresAt = new Date(now.getTime() + HOUR / 2);
        await store.createSession({ ...newSession(user.id, 'c1', now), absoluteExpiresAt });
        expect((await store.findSessionByRefreshToken('c1'))?.expiresAt).toEqual(absoluteExpiresAt);
        expect((await store.findRefreshToken('c1'))?.expiresAt).toEqual(absoluteExpiresAt);
      });

      it('rotateRefreshToken() marks the session used now and stops at its absolute end; reuse reports when', async () => {
        const user = await store.createUser(newUser({}));
        const now = new Date('2031-01-02T03:04:05.000Z');
        const absoluteExpiresAt = new Date(now.getTime() + 3 * HOUR);
        const session = await store.createSession({ ...newSession(user.id, 'm1', now), absoluteExpiresAt });
        const t1 = new Date(now.getTime() + 60_000);
        const first = await store.rotateRefreshToken('m1', 'm2', new Date(t1.getTime() + 2 * HOUR), t1);
        expect(first).toMatchObject({ status: 'rotated', session: { id: session.id, lastUsedAt: t1 } });
        expect((await store.getSession(session.id))?.lastUsedAt).toEqual(t1);
        const soon = new Date(t1.getTime() + 30_000);
        const reused = await store.rotateRefreshToken('m1', 'mx', new Date(soon.getTime() + HOUR), soon);
        expect(reused).toMatchObject({ status: 'reused', usedAt: t1, session: { id: session.id } });
        // Reuse changed nothing.
        expect((await store.getSession(session.id))?.lastUsedAt).toEqual(t1);
        expect(await store.findRefreshToken('mx')).toBeNull();
        // Asked for 10 hours more: given up to the absolute end only, token and session alike.
        const t2 = new Date(now.getTime() + 2 * HOUR);
        const second = await store.rotateRefreshToken('m2', 'm3', new Date(t2.getTime() + 10 * HOUR), t2);
        expect(second).toMatchObject({ status: 'rotated', session: { expiresAt: absoluteExpiresAt, lastUsedAt: t2 } });
        expect((await store.findRefreshToken('m3'))?.expiresAt).toEqual(absoluteExpiresAt);
        // The current token works until the absolute end, not after it.
        const past = new Date(absoluteExpiresAt.getTime() + 1);
        expect((await store.rotateRefreshToken('m3', 'm4', new Date(past.getTime() + HOUR), past)).status).toBe(
          'invalid',
        );
      });

      it("listUserSessions() gives the user's live sessions only, oldest first", async () => {
        const a = await store.createUser(newUser({}));
        const b = await store.createUser(newUser({}));
        const now = new Date('2031-01-02T03:04:05.000Z');
        const second = await store.createSession(newSession(a.id, 'l2', new Date(now.getTime() + 1000)));
        const first = await store.createSession(newSession(a.id, 'l1', now));
        const ended = await store.createSession(newSession(a.id, 'l3', now));
        await store.revokeSession(ended.id, 'logout', now);
        await store.createSession(newSession(a.id, 'l4', new Date(now.getTime() - 2 * HOUR))); // expired by now
        await store.createSession(newSession(b.id, 'l5', now));
        const listed = await store.listUserSessions(a.id, new Date(now.getTime() + 2000));
        expect(listed.map((s) => s.id)).toEqual([first.id, second.id]);
        expect(await store.listUserSessions(randomUUID(), now)).toEqual([]);
        expect(await store.listUserSessions('not-a-uuid', now)).toEqual([]);
      });

      it('sessionAddressHistory() knows the addresses of stored sessions, ended ones included, per user', async () => {
        const a = await store.createUser(newUser({}));
        const b = await store.createUser(newUser({}));
        const now = new Date();
        expect(await store.sessionAddressHistory(a.id, '192.0.2.1')).toEqual({
          hasSessions: false,
          fromAddress: false,
        });
        const s = await store.createSession({ ...newSession(a.id, 'a-1', now), ip: '192.0.2.1' });
        await store.createSession({ ...newSession(b.id, 'b-1', now), ip: '198.51.100.7' });
        expect(await store.sessionAddressHistory(a.id, '192.0.2.1')).toEqual({ hasSessions: true, fromAddress: true });
        expect(await store.sessionAddressHistory(a.id, '198.51.100.7')).toEqual({
          hasSessions: true,
          fromAddress: false,
        });
        await store.revokeSession(s.id, 'logout', now);
        expect(await store.sessionAddressHistory(a.id, '192.0.2.1')).toEqual({ hasSessions: true, fromAddress: true });
        expect(await store.sessionAddressHistory('not-a-uuid', '192.0.2.1')).toEqual({
          hasSessions: false,
          fromAddress: false,
        });
      });

      it('an id that is no UUID is no session, for reads and for revocation', async () => {
        expect(await store.getSession('not-a-uuid')).toBeNull();
        expect(await store.revokeSession("1' OR '1'='1", 'logout', new Date())).toBe(false);
      });

      it('findRefreshToken() tells a current token from a rotated one, and an unknown one is null', async () => {
        const user = await store.createUser(newUser({}));
        const now = new Date('2031-05-06T07:08:09.000Z');
        const session = await store.createSession(newSession(user.id, 'f1', now));
        expect(await store.findRefreshToken('f1')).toEqual({
          sessionId: session.id,
          createdAt: now,
          expiresAt: new Date(now.getTime() + HOUR),
          usedAt: null,
        });
        const later = new Date(now.getTime() + 60_000);
        const expiresAt = new Date(later.getTime() + 2 * HOUR);
        expect((await store.rotateRefreshToken('f1', 'f2', expiresAt, later)).status).toBe('rotated');
        expect(await store.findRefreshToken('f1')).toMatchObject({ sessionId: session.id, usedAt: later });
        expect(await store.findRefreshToken('f2')).toEqual({
          sessionId: session.id,
          createdAt: later,
          expiresAt,
          usedAt: null,
        });
        expect(await store.findRefreshToken('unknown')).toBeNull();
      });
    });

    describe('login failures', () => {
      const WINDOW = 900;
      const t0 = new Date('2030-01-01T00:00:00.000Z');
      const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

      it('recordLoginFailure() counts within the window and restarts once it has closed', async () => {
        expect(await store.recordLoginFailure('account:alice', t0, WINDOW)).toEqual({
          key: 'account:alice',
          count: 1,
          firstAt: t0,
          lastAt: t0,
        });
        expect(await store.recordLoginFailure('account:alice', at(10), WINDOW)).toMatchObject({
          count: 2,
          firstAt: t0,
          lastAt: at(10),
        });
        // The window is fixed at the first failure: at(WINDOW) it has closed, whatever happened since.
        expect(await store.recordLoginFailure('account:alice', at(WINDOW), WINDOW)).toEqual({
          key: 'account:alice',
          count: 1,
          firstAt: at(WINDOW),
          lastAt: at(WINDOW),
        });
      });

      it('getLoginFailures() returns open counters of the asked keys only', async () => {
        await store.recordLoginFailure('account:bob', t0, WINDOW);
        await store.recordLoginFailure('ip:10.0.0.1', at(100), WINDOW);
        await store.recordLoginFailure('ip:10.0.0.2', t0, WINDOW);
        const found = await store.getLoginFailures(['account:bob', 'ip:10.0.0.1', 'ip:nobody'], at(200), WINDOW);
        expect(found.map((f) => f.key).sort()).toEqual(['account:bob', 'ip:10.0.0.1']);
        const later = await store.getLoginFailures(['account:bob', 'ip:10.0.0.1'], at(WINDOW), WINDOW);
        expect(later.map((f) => f.key)).toEqual(['ip:10.0.0.1']);
        expect(await store.getLoginFailures([], t0, WINDOW)).toEqual([]);
      });

      it('clearLoginFailures() resets one key; purgeLoginFailures() drops closed windows', async () => {
        await store.recordLoginFailure('account:carol', t0, WINDOW);
        await store.recordLoginFailure('account:dave', at(500), WINDOW);
        await store.clearLoginFailures('account:carol');
        await store.clearLoginFailures('account:never-seen');
        expect(await store.getLoginFailures(['account:carol'], t0, WINDOW)).toEqual([]);
        await store.recordLoginFailure('ip:1.2.3.4', t0, WINDOW);
        expect(await store.purgeLoginFailures(at(WINDOW), WINDOW)).toBe(1);
        expect((await store.getLoginFailures(['account:dave'], at(WINDOW), WINDOW))[0]?.count).toBe(1);
      });

      it('concurrent failures on one key all count', async () => {
        await Promise.all(Array.from({ length: 20 }, () => store.recordLoginFailure('account:race', t0, WINDOW)));
        expect((await store.getLoginFailures(['account:race'], t0, WINDOW))[0]?.count).toBe(20);
      });
    });

    describe('signing keys', () => {
      const t0 = new Date('2030-01-01T00:00:00.000Z');

      it('addSigningKeyIfNone(): the first writer wins, per algorithm', async () => {
        const first = newKey('EdDSA', t0);
        expect(await store.addSigningKeyIfNone(first)).toEqual({ ...first, retiredAt: null });
        expect((await store.addSigningKeyIfNone(newKey('EdDSA', t0))).kid).toBe(first.kid);
        const es = newKey('ES256', t0);
        expect((await store.addSigningKeyIfNone(es)).kid).toBe(es.kid);
        expect((await store.listSigningKeys('EdDSA')).map((k) => k.kid)).toEqual([first.kid]);
      });

      it('concurrent addSigningKeyIfNone() calls agree on one active key', async () => {
        const results = await Promise.all(
          Array.from({ length: 5 }, () => store.addSigningKeyIfNone(newKey('RS256', t0))),
        );
        expect(new Set(results.map((k) => k.kid)).size).toBe(1);
        expect(await store.listSigningKeys('RS256')).toHaveLength(1);
      });

      it('rotateSigningKey() retires the active key and lists the new one first', async () => {
        const first = await store.addSigningKeyIfNone(newKey('EdDSA', t0));
        const later = new Date(t0.getTime() + 60_000);
        const second = newKey('EdDSA', later);
        expect(await store.rotateSigningKey(second)).toMatchObject({ kid: first.kid, retiredAt: later });
        const keys = await store.listSigningKeys('EdDSA');
        expect(keys.map((k) => [k.kid, k.retiredAt])).toEqual([
          [second.kid, null],
          [first.kid, later],
        ]);
        expect(keys[0]?.privateJwk).toEqual(second.privateJwk);
        expect(await store.rotateSigningKey(newKey('ES256', later))).toBeNull();
      });

      it('concurrent rotations leave exactly one active key', async () => {
        await store.addSigningKeyIfNone(newKey('ES256', t0));
        await Promise.all(
          Array.from({ length: 4 }, (_, i) => store.rotateSigningKey(newKey('ES256', new Date(t0.getTime() + i)))),
        );
        const keys = await store.listSigningKeys('ES256');
        expect(keys).toHaveLength(5);
        expect(keys.filter((k) => k.retiredAt === null)).toHaveLength(1);
      });

      it('purgeSigningKeys() deletes keys retired before the cutoff, never the active one', async () => {
        const old = await store.addSigningKeyIfNone(newKey('EdDSA', t0));
        await store.rotateSigningKey(newKey('EdDSA', new Date(t0.getTime() + 1000)));
        expect(await store.purgeSigningKeys(new Date(t0.getTime() + 1000))).toBe(0);
        expect(await store.purgeSigningKeys(new Date(t0.getTime() + 1001))).toBe(1);
        const keys = await store.listSigningKeys('EdDSA');
        expect(keys.map((k) => k.kid)).not.toContain(old.kid);
        expect(keys).toHaveLength(1);
        expect(await store.purgeSigningKeys(new Date(t0.getTime() + 10 ** 9))).toBe(0);
      });
    });

    describe('audit events', () => {
      const t0 = new Date('2030-01-01T00:00:00.000Z');
      const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
      const event = (overrides: Partial<Parameters<Store['recordAuditEvent']>[0]> = {}) => ({
        at: t0,
        event: 'login.failure' as const,
        username: 'alice',
        userId: null,
        ip: '10.0.0.1',
        detail: { reason: 'wrong-password' },
        ...overrides,
      });

      it('records events and lists them newest first with their fields', async () => {
        const userId = randomUUID();
        await store.recordAuditEvent(event({ at: t0 }));
        await store.recordAuditEvent(
          event({ at: at(1), event: 'login.success', userId, detail: { nested: { a: [1, 2] } } }),
        );
        await store.recordAuditEvent(event({ at: at(1), event: 'logout', ip: null }));
        const events = await store.listAuditEvents({ limit: 10 });
        expect(events.map((e) => e.event)).toEqual(['logout', 'login.success', 'login.failure']);
        expect(events[1]).toMatchObject({
          at: at(1),
          username: 'alice',
          userId,
          ip: '10.0.0.1',
          detail: { nested: { a: [1, 2] } },
        });
        expect(events[0]!.id).toBeGreaterThan(events[1]!.id);
        expect(typeof events[0]!.id).toBe('number');
      });

      it('filters by user (case-insensitive name, or id), event and since, and honours the limit', async () => {
        const userId = randomUUID();
        await store.recordAuditEvent(event({ username: 'Alice', at: t0 }));
        await store.recordAuditEvent(event({ username: 'renamed', userId, event: 'login.success', at: at(5) }));
        await store.recordAuditEvent(event({ username: 'bob', at: at(10) }));
        expect((await store.listAuditEvents({ username: 'ALICE', limit: 10 })).map((e) => e.at)).toEqual([t0]);
        const either = await store.listAuditEvents({ username: 'alice', userId, limit: 10 });
        expect(either.map((e) => e.username)).toEqual(['renamed', 'Alice']);
        expect((await store.listAuditEvents({ userId: 'not-a-uuid', limit: 10 })).length).toBe(0);
        expect((await store.listAuditEvents({ event: 'login.success', limit: 10 })).map((e) => e.username)).toEqual([
          'renamed',
        ]);
        expect((await store.listAuditEvents({ since: at(5), limit: 10 })).map((e) => e.username)).toEqual([
          'bob',
          'renamed',
        ]);
        expect(await store.listAuditEvents({ limit: 2 })).toHaveLength(2);
      });

      it('purgeAuditEvents() deletes events older than the cutoff', async () => {
        await store.recordAuditEvent(event({ at: t0 }));
        await store.recordAuditEvent(event({ at: at(60) }));
        expect(await store.purgeAuditEvents(at(60))).toBe(1);
        expect((await store.listAuditEvents({ limit: 10 })).map((e) => e.at)).toEqual([at(60)]);
      });

      it('returned events are copies', async () => {
        await store.recordAuditEvent(event({ detail: { n: 1 } }));
        const [first] = await store.listAuditEvents({ limit: 1 });
        first!.detail.n = 2;
        expect((await store.listAuditEvents({ limit: 1 }))[0]?.detail).toEqual({ n: 1 });
      });
    });

    describe('oauth clients', () => {
      let clientCounter = 0;
      const newClient = (overrides: Partial<NewOAuthClient> = {}): NewOAuthClient => {
        clientCounter += 1;
        return {
          clientId: `gk_client${clientCounter}`,
          name: `Client ${clientCounter}`,
          secretHash: `${clientCounter}`.padStart(64, 'a'),
          createdAt: new Date(CLOCK_START.getTime() + clientCounter * 1000),
          ...overrides,
        };
      };

      it('createOAuthClient() stores the record with defaults, and getOAuthClient() finds it exactly', async () => {
        const input = newClient({ createdBy: 'root' });
        const created = await store.createOAuthClient(input);
        expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(created).toEqual({
          id: created.id,
          clientId: input.clientId,
          name: input.name,
          secretHash: input.secretHash,
          redirectUris: [],
          grantTypes: [],
          firstParty: false,
          createdAt: input.createdAt,
          secretRotatedAt: null,
          createdBy: 'root',
        });
        expect(await store.getOAuthClient(input.clientId)).toEqual(created);
        // Client ids are compared exactly: another case is another (unknown) client.
        expect(await store.getOAuthClient(input.clientId.toUpperCase())).toBeNull();
        expect(await store.getOAuthClient('gk_nobody')).toBeNull();
      });

      it('keeps redirect URIs and grant types in order, a public client without a secret', async () => {
        const input = newClient({
          secretHash: null,
          redirectUris: ['https://app.example/callback', 'http://127.0.0.1:8080/cb'],
          grantTypes: ['authorization_code', 'refresh_token'],
          firstParty: true,
        });
        await store.createOAuthClient(input);
        expect(await store.getOAuthClient(input.clientId)).toMatchObject({
          secretHash: null,
          redirectUris: ['https://app.example/callback', 'http://127.0.0.1:8080/cb'],
          grantTypes: ['authorization_code', 'refresh_token'],
          firstParty: true,
          createdBy: null,
        });
      });

      it('createOAuthClient() refuses a client id that exists with CLIENT_ID_TAKEN', async () => {
        const input = newClient();
        await store.createOAuthClient(input);
        await expectCode(store.createOAuthClient(newClient({ clientId: input.clientId })), 'CLIENT_ID_TAKEN');
        expect(await store.listOAuthClients()).toHaveLength(1);
      });

      it('listOAuthClients() gives every client in creation order', async () => {
        const late = newClient({ createdAt: new Date(CLOCK_START.getTime() + 5 * HOUR) });
        const early = newClient({ createdAt: new Date(CLOCK_START.getTime() - HOUR) });
        await store.createOAuthClient(late);
        await store.createOAuthClient(early);
        expect((await store.listOAuthClients()).map((c) => c.clientId)).toEqual([early.clientId, late.clientId]);
      });

      it('deleteOAuthClient() removes it once; an unknown client is false', async () => {
        const input = newClient();
        const kept = newClient();
        await store.createOAuthClient(input);
        await store.createOAuthClient(kept);
        expect(await store.deleteOAuthClient(input.clientId)).toBe(true);
        expect(await store.getOAuthClient(input.clientId)).toBeNull();
        expect(await store.deleteOAuthClient(input.clientId)).toBe(false);
        expect(await store.deleteOAuthClient('gk_nobody')).toBe(false);
        expect((await store.listOAuthClients()).map((c) => c.clientId)).toEqual([kept.clientId]);
      });

      it('rotateOAuthClientSecret() replaces the hash and stamps the time; an unknown client is null', async () => {
        const input = newClient();
        await store.createOAuthClient(input);
        const at = new Date(CLOCK_START.getTime() + 2 * HOUR);
        const newHash = 'b'.repeat(64);
        const rotated = await store.rotateOAuthClientSecret(input.clientId, newHash, at);
        expect(rotated).toMatchObject({ clientId: input.clientId, secretHash: newHash, secretRotatedAt: at });
        expect(await store.getOAuthClient(input.clientId)).toMatchObject({ secretHash: newHash, secretRotatedAt: at });
        expect(await store.rotateOAuthClientSecret('gk_nobody', newHash, at)).toBeNull();
      });
    });

    describe('one-time tokens', () => {
      const MINUTE = 60_000;
      const t0 = new Date('2030-02-01T00:00:00.000Z');
      const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);
      const budget = { since: new Date(t0.getTime() - HOUR), max: 3 };
      let hashCounter = 0;
      const token = (userId: string, createdAt = t0, minutes = 30) => {
        hashCounter += 1;
        return {
          userId,
          purpose: 'password_reset' as const,
          tokenHash: `${hashCounter}`.padStart(64, '0'),
          createdAt,
          expiresAt: new Date(createdAt.getTime() + minutes * MINUTE),
        };
      };

      it('consumeOneTimeToken() spends a token once, and only before it expires', async () => {
        const user = await store.createUser(newUser());
        const first = token(user.id);
        expect(await store.issueOneTimeToken(first, budget)).toBe(true);
        expect(await store.consumeOneTimeToken('f'.repeat(64), 'password_reset', at(1))).toBeNull();
        expect(await store.consumeOneTimeToken(first.tokenHash, 'password_reset', at(1))).toEqual({
          userId: user.id,
          email: null,
        });
        expect(await store.consumeOneTimeToken(first.tokenHash, 'password_reset', at(2))).toBeNull();
        const second = token(user.id, at(2));
        expect(await store.issueOneTimeToken(second, { ...budget, since: at(-60) })).toBe(true);
        expect(await store.consumeOneTimeToken(second.tokenHash, 'password_reset', at(32))).toBeNull();
      });

      it('issueOneTimeToken() voids every older unused token of that user and purpose, not others', async () => {
        const [ada, bob] = [await store.createUser(newUser()), await store.createUser(newUser())];
        const old = token(ada.id);
        const bobs = token(bob.id);
        await store.issueOneTimeToken(old, budget);
        await store.issueOneTimeToken(bobs, budget);
        const fresh = token(ada.id, at(1));
        expect(await store.issueOneTimeToken(fresh, budget)).toBe(true);
        expect(await store.consumeOneTimeToken(old.tokenHash, 'password_reset', at(2))).toBeNull();
        expect(await store.consumeOneTimeToken(bobs.tokenHash, 'password_reset', at(2))).toEqual({
          userId: bob.id,
          email: null,
        });
        expect(await store.consumeOneTimeToken(fresh.tokenHash, 'password_reset', at(2))).toEqual({
          userId: ada.id,
          email: null,
        });
      });

      it('issueOneTimeToken() refuses past the budget, even for concurrent calls, and for an unknown user', async () => {
        const user = await store.createUser(newUser());
        const results = await Promise.all(
          Array.from({ length: 8 }, () => store.issueOneTimeToken(token(user.id), budget)),
        );
        expect(results.filter(Boolean)).toHaveLength(3);
        // An hour later the budget is back.
        expect(await store.issueOneTimeToken(token(user.id, at(61)), { since: at(1), max: 3 })).toBe(true);
        expect(await store.issueOneTimeToken(token(randomUUID()), budget)).toBe(false);
      });

      it('of two concurrent consumes of one token exactly one wins', async () => {
        const user = await store.createUser(newUser());
        const issued = token(user.id);
        await store.issueOneTimeToken(issued, budget);
        const results = await Promise.all(
          Array.from({ length: 4 }, () => store.consumeOneTimeToken(issued.tokenHash, 'password_reset', at(1))),
        );
        expect(results.filter((r) => r !== null)).toEqual([{ userId: user.id, email: null }]);
      });

      it("voidOneTimeTokens() voids the user's unused tokens; purge deletes spent and expired ones", async () => {
        const user = await store.createUser(newUser());
        const issued = token(user.id);
        await store.issueOneTimeToken(issued, budget);
        expect(await store.voidOneTimeTokens(user.id, at(1))).toBe(1);
        expect(await store.voidOneTimeTokens(user.id, at(1), 'password_reset')).toBe(0);
        expect(await store.consumeOneTimeToken(issued.tokenHash, 'password_reset', at(2))).toBeNull();
        const live = token(user.id, at(3), 600);
        await store.issueOneTimeToken(live, budget);
        // Rows younger than `createdBefore` stay (they still count against the budget).
        expect(await store.purgeOneTimeTokens(at(4), t0)).toBe(0);
        expect(await store.purgeOneTimeTokens(at(100), at(90))).toBe(1);
        expect(await store.consumeOneTimeToken(live.tokenHash, 'password_reset', at(101))).toEqual({
          userId: user.id,
          email: null,
        });
        expect(await store.purgeOneTimeTokens(at(102), at(102))).toBe(1);
      });

      it('a deleted user takes their tokens along', async () => {
        const user = await store.createUser(newUser());
        const issued = token(user.id);
        await store.issueOneTimeToken(issued, budget);
        await store.deleteUser(user.id);
        expect(await store.consumeOneTimeToken(issued.tokenHash, 'password_reset', at(1))).toBeNull();
        expect(await store.purgeOneTimeTokens(at(1000), at(1000))).toBe(0);
      });
      it('a verification token gives back the address it confirms; its short code spends it instead of the link', async () => {
        const user = await store.createUser(newUser());
        const issued = { ...token(user.id), purpose: 'email_verification' as const, email: 'new@example.com' };
        const coded = { ...issued, codeHash: 'c'.repeat(64) };
        await store.issueOneTimeToken(coded, budget);
        // A token of one purpose is never spent as another.
        expect(await store.consumeOneTimeToken(coded.tokenHash, 'password_reset', at(1))).toBeNull();
        expect(await store.consumeOneTimeCode(user.id, 'email_verification', 'c'.repeat(64), at(1), 5)).toEqual({
          userId: user.id,
          email: 'new@example.com',
        });
        // Spent by its code: neither the code nor the link works again.
        expect(await store.consumeOneTimeCode(user.id, 'email_verification', 'c'.repeat(64), at(2), 5)).toBeNull();
        expect(await store.consumeOneTimeToken(coded.tokenHash, 'email_verification', at(2))).toBeNull();
        const linked = { ...token(user.id, at(3)), purpose: 'email_verification' as const, email: 'new@example.com' };
        await store.issueOneTimeToken(linked, { ...budget, since: at(-60) });
        expect(await store.consumeOneTimeToken(linked.tokenHash, 'email_verification', at(4))).toEqual({
          userId: user.id,
          email: 'new@example.com',
        });
      });

      it('consumeOneTimeCode(): wrong codes count, the last allowed miss voids the token, even concurrently', async () => {
        const [ada, bob] = [await store.createUser(newUser()), await store.createUser(newUser())];
        const right = 'd'.repeat(64);
        const issue = (userId: string) =>
          store.issueOneTimeToken(
            { ...token(userId), purpose: 'email_verification' as const, email: 'x@example.com', codeHash: right },
            budget,
          );
        await issue(ada.id);
        await issue(bob.id);
        // Another user's code never spends yours.
        expect(await store.consumeOneTimeCode(bob.id, 'email_verification', 'e'.repeat(64), at(1), 3)).toBeNull();
        const guesses = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.consumeOneTimeCode(ada.id, 'email_verification', `${i}`.padStart(64, 'f'), at(1), 3),
          ),
        );
        expect(guesses.every((g) => g === null)).toBe(true);
        // Three misses in all voided it: the right code is too late now.
        expect(await store.consumeOneTimeCode(ada.id, 'email_verification', right, at(2), 3)).toBeNull();
        // Bob had one miss of three: his right code still works, and not after expiry for anyone.
        expect(await store.consumeOneTimeCode(bob.id, 'email_verification', right, at(2), 3)).toEqual({
          userId: bob.id,
          email: 'x@example.com',
        });
        const late = await store.createUser(newUser());
        await issue(late.id);
        expect(await store.consumeOneTimeCode(late.id, 'email_verification', right, at(31), 3)).toBeNull();
        expect(await store.consumeOneTimeCode('not-a-uuid', 'email_verification', right, at(1), 3)).toBeNull();
      });
    });

    describe('multi-factor (TOTP)', () => {
      const t0 = new Date('2030-03-01T00:00:00.000Z');
      const hashes = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}`.padStart(64, 'c'));

      it('a pending secret is replaced by a newer setup; confirm needs the current one and stores the codes', async () => {
        const user = await store.createUser(newUser());
        expect(await store.getMfa(user.id)).toBeNull();
        expect(await store.putPendingMfa(user.id, 'sealed-1', t0)).toBe(true);
        expect(await store.putPendingMfa(user.id, 'sealed-2', t0)).toBe(true);
        expect(await store.getMfa(user.id)).toEqual({
          userId: user.id,
          secretCiphertext: 'sealed-2',
          createdAt: t0,
          confirmedAt: null,
          lastStep: null,
          recoveryCodesLeft: 0,
        });
        expect(await store.acceptMfaStep(user.id, 5)).toBe(false); // not confirmed yet
        expect(await store.confirmMfa(user.id, 'sealed-1', 100, hashes(10), t0)).toBe(false);
        expect(await store.confirmMfa(user.id, 'sealed-2', 100, hashes(10), t0)).toBe(true);
        expect(await store.confirmMfa(user.id, 'sealed-2', 101, hashes(10), t0)).toBe(false);
        expect(await store.getMfa(user.id)).toMatchObject({ confirmedAt: t0, lastStep: 100, recoveryCodesLeft: 10 });
        // Setup cannot overwrite a confirmed secret; a user that is not there gets nothing stored.
        expect(await store.putPendingMfa(user.id, 'sealed-3', t0)).toBe(false);
        expect((await store.getMfa(user.id))?.secretCiphertext).toBe('sealed-2');
        expect(await store.putPendingMfa(randomUUID(), 'sealed-4', t0)).toBe(false);
        expect(await store.listMfaEnabled([user.id, randomUUID()])).toEqual(new Set([user.id]));
        expect(await store.listMfaEnabled([])).toEqual(new Set());
      });

      it('acceptMfaStep() accepts only a later step, and of concurrent calls with one step exactly one', async () => {
        const user = await store.createUser(newUser());
        await store.putPendingMfa(user.id, 'sealed', t0);
        await store.confirmMfa(user.id, 'sealed', 100, hashes(2), t0);
        expect(await store.acceptMfaStep(user.id, 100)).toBe(false);
        expect(await store.acceptMfaStep(user.id, 99)).toBe(false);
        const raced = await Promise.all(Array.from({ length: 8 }, () => store.acceptMfaStep(user.id, 101)));
        expect(raced.filter(Boolean)).toHaveLength(1);
        expect(await store.acceptMfaStep(user.id, 103)).toBe(true);
        expect(await store.acceptMfaStep(user.id, 102)).toBe(false);
        expect((await store.getMfa(user.id))?.lastStep).toBe(103);
      });

      it('consumeRecoveryCode() spends each code once, even concurrently; unknown codes and other users get false', async () => {
        const [ada, bob] = [await store.createUser(newUser()), await store.createUser(newUser())];
        await store.putPendingMfa(ada.id, 'sealed', t0);
        const [first, second] = hashes(2) as [string, string];
        await store.confirmMfa(ada.id, 'sealed', 1, [first, second], t0);
        const raced = await Promise.all(Array.from({ length: 6 }, () => store.consumeRecoveryCode(ada.id, first, t0)));
        expect(raced.filter(Boolean)).toHaveLength(1);
        expect(await store.consumeRecoveryCode(ada.id, 'f'.repeat(64), t0)).toBe(false);
        expect(await store.consumeRecoveryCode(bob.id, second, t0)).toBe(false);
        expect((await store.getMfa(ada.id))?.recoveryCodesLeft).toBe(1);
      });

      it('deleteMfa() removes secret and codes; a deleted user takes their MFA along', async () => {
        const user = await store.createUser(newUser());
        await store.putPendingMfa(user.id, 'sealed', t0);
        await store.confirmMfa(user.id, 'sealed', 1, hashes(3), t0);
        expect(await store.deleteMfa(user.id)).toBe(true);
        expect(await store.deleteMfa(user.id)).toBe(false);
        expect(await store.getMfa(user.id)).toBeNull();
        expect(await store.consumeRecoveryCode(user.id, hashes(1)[0]!, t0)).toBe(false);
        // Enrolled again: the old codes are gone.
        await store.putPendingMfa(user.id, 'sealed-again', t0);
        await store.confirmMfa(
          user.id,
          'sealed-again',
          2,
          hashes(1).map((h) => h.replace(/c/g, 'd')),
          t0,
        );
        expect((await store.getMfa(user.id))?.recoveryCodesLeft).toBe(1);
        await store.deleteUser(user.id);
        expect(await store.getMfa(user.id)).toBeNull();
        expect(await store.listMfaEnabled([user.id])).toEqual(new Set());
      });

      it('markMfaSession() marks one session; isMfaSession() tells it from others', async () => {
        const user = await store.createUser(newUser());
        const marked = await store.createSession(newSession(user.id, 'e'.repeat(64)));
        const other = await store.createSession(newSession(user.id, 'b'.repeat(64)));
        await store.markMfaSession(marked.id);
        await store.markMfaSession(marked.id); // twice is fine
        expect(await store.isMfaSession(marked.id)).toBe(true);
        expect(await store.isMfaSession(other.id)).toBe(false);
      });

      it('findOneTimeToken() finds an mfa_login token without spending it; consume still works once', async () => {
        const user = await store.createUser(newUser());
        const issued = {
          userId: user.id,
          purpose: 'mfa_login' as const,
          tokenHash: 'a'.repeat(64),
          createdAt: t0,
          expiresAt: new Date(t0.getTime() + 5 * 60_000),
        };
        expect(await store.issueOneTimeToken(issued, { since: t0, max: 30 })).toBe(true);
        expect(await store.findOneTimeToken(issued.tokenHash, 'mfa_login', t0)).toEqual({ userId: user.id });
        expect(await store.findOneTimeToken(issued.tokenHash, 'password_reset', t0)).toBeNull();
        expect(await store.findOneTimeToken(issued.tokenHash, 'mfa_login', issued.expiresAt)).toBeNull();
        expect(await store.consumeOneTimeToken(issued.tokenHash, 'mfa_login', t0)).toEqual({
          userId: user.id,
          email: null,
        });
        expect(await store.findOneTimeToken(issued.tokenHash, 'mfa_login', t0)).toBeNull();
      });
    });

    describe('settings and health', () => {
      it('putSettingIfAbsent(): the first writer wins', async () => {
        expect(await store.getSetting('k')).toBeNull();
        expect(await store.putSettingIfAbsent('k', 'first')).toBe('first');
        expect(await store.putSettingIfAbsent('k', 'second')).toBe('first');
        expect(await store.getSetting('k')).toBe('first');
      });

      it('concurrent putSettingIfAbsent() calls agree on one value', async () => {
        const values = await Promise.all(
          Array.from({ length: 5 }, (_, i) => store.putSettingIfAbsent('race', `v${i}`)),
        );
        expect(new Set(values).size).toBe(1);
      });

      it('health() reports a reachable store', async () => {
        const health = await store.health();
        expect(health.reachable).toBe(true);
        expect(health.latencyMs).not.toBeNull();
      });
    });
  });
}
