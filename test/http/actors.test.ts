/**
 * Who acts (src/auth/actor.ts): an operator (the CLI) has an admin's authority and is
 * recorded by its name; a signed-in user's authority is their role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor, userActor } from '../../src/auth/actor.js';
import { STRONG_PASSWORD, bearer, expectError, startGatekeeper, type TestGatekeeper } from '../support/app.js';

describe('actors (memory store, registration closed)', () => {
  let gk: TestGatekeeper;
  const operator = operatorActor('gatekeeper-cli');

  beforeAll(async () => {
    gk = await startGatekeeper('memory', { GATEKEEPER_ALLOW_REGISTRATION: 'false' });
    // Another active admin, so that demoting the operator's admin is not refused as LAST_ADMIN.
    await gk.service.ensureAdmin({ username: 'keeper', password: STRONG_PASSWORD, email: null });
  });
  afterAll(async () => {
    await gk?.close();
  });

  const detailOf = async (event: string, username: string) => {
    const events = await gk.store.listAuditEvents({ username, event: event as never, limit: 10 });
    expect(events, `${event} of ${username}`).toHaveLength(1);
    return events[0]!.detail;
  };

  it('an operator creates users of any role while registration is closed, and every change records its name as by', async () => {
    const created = await gk.service.createUser(
      { username: 'op_made', password: STRONG_PASSWORD, role: 'admin' },
      { actor: operator },
    );
    expect(created.role).toBe('admin');
    expect(await detailOf('register', 'op_made')).toEqual({ role: 'admin', by: 'gatekeeper-cli' });

    await gk.service.updateUser('op_made', { role: 'guest' }, { actor: operator });
    expect(await detailOf('user.update', 'op_made')).toMatchObject({
      by: 'gatekeeper-cli',
      changes: { role: { before: 'admin', after: 'guest' } },
    });
    await gk.service.setPassword('op_made', 'An0ther-Secret!', { actor: operator });
    expect(await detailOf('password.change', 'op_made')).toMatchObject({ by: 'gatekeeper-cli', reset: true });
    await gk.service.revokeTokens('op_made', { actor: operator });
    expect(await detailOf('tokens.revoke', 'op_made')).toMatchObject({ by: 'gatekeeper-cli' });
    await gk.service.deleteUser('op_made', { actor: operator });
    expect(await detailOf('user.delete', 'op_made')).toMatchObject({ by: 'gatekeeper-cli', role: 'guest' });
  });

  it('a signed-in user who is not an admin has no admin authority, and without an actor nobody is recorded', async () => {
    const regular = await gk.service.createUser(
      { username: 'plain_user', password: STRONG_PASSWORD },
      { actor: operator },
    );
    await expect(
      gk.service.register({ username: 'by_plain', password: STRONG_PASSWORD }, { actor: userActor(regular) }),
    ).rejects.toMatchObject({ code: 'REGISTRATION_DISABLED' });
    await gk.service.updateUser('plain_user', { email: 'plain@example.com' });
    expect(await detailOf('user.update', 'plain_user')).toMatchObject({ by: null });
  });

  it('POST /auth/register with an admin token records the admin as by, even with registration closed', async () => {
    await gk.service.createUser(
      { username: 'reg_admin', password: STRONG_PASSWORD, role: 'admin' },
      { actor: operator },
    );
    const login = await gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'reg_admin', password: STRONG_PASSWORD },
    });
    const token = (JSON.parse(login.body) as { access_token: string }).access_token;
    const res = await gk.app.inject({
      method: 'POST',
      url: '/auth/register',
      headers: bearer(token),
      payload: { username: 'admin_made', password: STRONG_PASSWORD, role: 'guest' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(await detailOf('register', 'admin_made')).toEqual({ role: 'guest', by: 'reg_admin' });
    // Without a token the same route is closed.
    const closed = await gk.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { username: 'nobody_made', password: STRONG_PASSWORD },
    });
    expectError(closed, 403, 'REGISTRATION_DISABLED');
  });
});
