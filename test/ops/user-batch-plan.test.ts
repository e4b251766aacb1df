import { describe, expect, it } from 'vitest';
import { passwordMatches, scramVerifier } from '../../src/store/postgres/role-password.js';
import type { UserRecord } from '../../src/store/store.js';
import { planUserBatch, type ExistingUser } from '../../src/store/user-batch-plan.js';

let next = 0;
function user(username: string, email: string | null = null, id?: string): UserRecord {
  next += 1;
  return {
    id: id ?? `00000000-0000-4000-8000-${String(next).padStart(12, '0')}`,
    username,
    passwordHash: '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
    role: 'regular',
    email,
    emailVerified: false,
    profilePictureUrl: null,
    yapcoinBalance: 0,
    isActive: true,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    metadata: {},
  };
}
const existing = (u: UserRecord): ExistingUser => ({ id: u.id, username: u.username, email: u.email });

describe('planUserBatch()', () => {
  it('inserts new users and skips users that exist by id or by username in any case', () => {
    const stored = user('Alice', 'alice@example.com');
    const byId = { ...user('renamed'), id: stored.id };
    const byName = user('ALICE');
    const fresh = user('bob', 'bob@example.com');
    const plan = planUserBatch([byId, byName, fresh], [existing(stored)], 'skip');
    expect(plan.inserts).toEqual([fresh]);
    expect(plan.skipped).toEqual([byId, byName]);
    expect(plan.failures).toEqual([]);
  });

  it('with update, an existing user is overwritten in place: the stored row keeps its id', () => {
    const stored = user('carol');
    const incoming = user('Carol', 'carol@example.com');
    const plan = planUserBatch([incoming], [existing(stored)], 'update');
    expect(plan.updates).toEqual([{ targetId: stored.id, user: incoming }]);
  });

  it('refuses an email held by another user, and an id and username that name two different users', () => {
    const dave = user('dave', 'dave@example.com');
    const erin = user('erin');
    const stealsEmail = user('frank', 'DAVE@example.com');
    const split = { ...user('erin'), id: dave.id };
    const plan = planUserBatch([stealsEmail, split], [existing(dave), existing(erin)], 'update');
    expect(plan.failures.map((f) => [f.user.username, f.reason])).toEqual([
      ['frank', 'its email address already belongs to another user'],
      ['erin', 'its id and its username belong to two different existing users'],
    ]);
    expect(plan.inserts).toEqual([]);
    expect(plan.updates).toEqual([]);
  });

  it('refuses a user that repeats the username or email of an earlier one in the same batch', () => {
    const first = user('gina', 'g@example.com');
    const plan = planUserBatch([first, user('GINA'), user('hank', 'G@EXAMPLE.COM')], [], 'skip');
    expect(plan.inserts).toEqual([first]);
    expect(plan.failures).toHaveLength(2);
  });
});

describe('role passwords', () => {
  it('a SCRAM-SHA-256 secret made here matches its password only', () => {
    const secret = scramVerifier('s3cret');
    expect(secret).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(passwordMatches(secret, 's3cret', 'app')).toBe(true);
    expect(passwordMatches(secret, 'other', 'app')).toBe(false);
  });

  it('understands md5 secrets of older servers, and a role without password', () => {
    // 'md5' + md5(password || rolename) for password "pw" and role "app", as PostgreSQL stores it.
    const md5 = 'md581ad3d00fcdf98fbc5f8f9a859590b46';
    expect(passwordMatches(md5, 'pw', 'app')).toBe(true);
    expect(passwordMatches(md5, 'pw', 'other-role')).toBe(false);
    expect(passwordMatches(null, 'pw', 'app')).toBe(false);
  });
});
