import { describe, expect, it } from 'vitest';
import { actorName, hasAdminAuthority, operatorActor, userActor } from '../../src/auth/actor.js';

const user = (role: 'admin' | 'regular' | 'guest') =>
  userActor({ id: '7c6f4a52-3f1e-4a53-9a0e-4b7f8f1c2d3e', username: `a_${role}`, role });

describe('Actor', () => {
  it('an admin user and any operator have admin authority; other users and nobody do not', () => {
    expect(hasAdminAuthority(user('admin'))).toBe(true);
    expect(hasAdminAuthority(operatorActor('gatekeeper-cli'))).toBe(true);
    expect(hasAdminAuthority(user('regular'))).toBe(false);
    expect(hasAdminAuthority(user('guest'))).toBe(false);
    expect(hasAdminAuthority(null)).toBe(false);
    expect(hasAdminAuthority(undefined)).toBe(false);
  });

  it("the audit trail's `by` is the user's username or the operator's name, and null for nobody", () => {
    expect(actorName(user('regular'))).toBe('a_regular');
    expect(actorName(operatorActor('gatekeeper-cli'))).toBe('gatekeeper-cli');
    expect(actorName(null)).toBeNull();
    expect(actorName(undefined)).toBeNull();
  });

  it('userActor keeps only who the user is, never their record (no password hash travels with it)', () => {
    const actor = userActor({
      id: '7c6f4a52-3f1e-4a53-9a0e-4b7f8f1c2d3e',
      username: 'ada',
      role: 'admin',
      passwordHash: '$argon2id$…',
    } as Parameters<typeof userActor>[0]);
    expect(actor).toEqual({ kind: 'user', id: '7c6f4a52-3f1e-4a53-9a0e-4b7f8f1c2d3e', username: 'ada', role: 'admin' });
  });
});
