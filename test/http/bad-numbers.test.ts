/**
 * "Safe on the internet, round two", point 8: numbers out of range are the client's
 * mistake (422 or 409), never a 500, and the memory store answers as PostgreSQL does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  adminTokens,
  bearer,
  expectError,
  json,
  register,
  startGatekeeper,
  type TestGatekeeper,
  type Tokens,
} from '../support/app.js';

const MAX = 2 ** 31 - 1;

describe.each(BACKENDS)('numbers at the edges (%s store)', (backend) => {
  let gk: TestGatekeeper;
  let admin: Tokens;
  beforeAll(async () => {
    gk = await startGatekeeper(backend);
    admin = await adminTokens(gk);
  });
  afterAll(async () => {
    await gk?.close();
  });

  const list = (query: string) =>
    gk.app.inject({ method: 'GET', url: `/auth/users?${query}`, headers: bearer(admin.access_token) });
  const add = (username: string, delta: unknown) =>
    gk.app.inject({
      method: 'POST',
      url: `/auth/users/${username}/yapcoins`,
      headers: bearer(admin.access_token),
      payload: { delta },
    });

  it('GET /auth/users: skip must be a whole number up to 1e9 (422 otherwise, never 500)', async () => {
    for (const skip of ['1e30', '1e10', '1.5', '-1', 'NaN', 'Infinity', '99999999999999999999']) {
      expectError(await list(`skip=${skip}`), 422, 'VALIDATION_ERROR');
    }
    const far = await list('skip=1000000000');
    expect(far.statusCode, far.body).toBe(200);
    expect(json(far)).toEqual([]);
    expect(far.headers['x-total-count']).toBe('1');
  });

  it('yapcoins: a delta past ±(2^31 − 1) and a balance above it are 422; below zero stays 409', async () => {
    await register(gk.app, 'saver');
    for (const delta of [MAX + 1, -(MAX + 1), 1e30, 1.5])
      expectError(await add('saver', delta), 422, 'VALIDATION_ERROR');
    const full = await add('saver', MAX);
    expect(full.statusCode, full.body).toBe(200);
    expect(json(full).yapcoin_balance).toBe(MAX);
    const over = await add('saver', 1);
    expectError(over, 422, 'VALIDATION_ERROR');
    expect(json(over).errors).toEqual([{ field: 'delta', message: expect.stringContaining(String(MAX)) as string }]);
    expect(json(await add('saver', -MAX)).yapcoin_balance).toBe(0);
    expectError(await add('saver', -1), 409, 'INSUFFICIENT_BALANCE');
  });

  it('concurrent adds near the maximum: each is 200 or 422, and the balance never passes it', async () => {
    await register(gk.app, 'hoarder');
    expect((await add('hoarder', MAX - 10)).statusCode).toBe(200);
    const results = await Promise.all(Array.from({ length: 6 }, () => add('hoarder', 5)));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.every((s) => s === 200 || s === 422)).toBe(true);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    const user = await gk.app.inject({
      method: 'GET',
      url: '/auth/users/hoarder',
      headers: bearer(admin.access_token),
    });
    expect(json(user).yapcoin_balance).toBe(MAX);
  });
});
