/**
 * Issue 18 points 10 and 11: deeply nested metadata and unpaired UTF-16 surrogates are input
 * errors (422), never a 500 from a recursive walk or from PostgreSQL, and leave nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  bearer,
  expectError,
  json,
  login,
  register,
  startGatekeeper,
  STRONG_PASSWORD,
  type TestGatekeeper,
} from '../support/app.js';

/** `{"a":{"a":…{}}}` with `levels` objects in all, as JSON text (a client's JSON.stringify would overflow first). */
function nested(levels: number): string {
  return `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
}

/** The raw JSON text, so the surrogate escape reaches the server exactly as an attacker sends it. */
const rawJson = (text: string, headers: Record<string, string> = {}) => ({
  payload: text,
  headers: { 'content-type': 'application/json', ...headers },
});

describe.each(BACKENDS)('hostile values (%s store)', (backend) => {
  let gk: TestGatekeeper;
  let token: string;

  beforeAll(async () => {
    gk = await startGatekeeper(backend);
    await register(gk.app, 'value_owner');
    token = (await login(gk.app, 'value_owner')).access_token;
  });
  afterAll(async () => {
    await gk?.close();
  });

  it('metadata nested 32 levels deep is accepted', async () => {
    const res = await gk.app.inject({
      method: 'PUT',
      url: '/auth/me',
      ...rawJson(`{"metadata":${nested(32)}}`, bearer(token)),
    });
    expect(res.statusCode, res.body).toBe(200);
  });

  it.each([33, 3_000, 10_000])('metadata nested %i levels deep is a 422, and the account keeps working', async (n) => {
    const res = await gk.app.inject({
      method: 'PUT',
      url: '/auth/me',
      ...rawJson(`{"metadata":${nested(n)}}`, bearer(token)),
    });
    expectError(res, 422, 'VALIDATION_ERROR');
    expect(json(res).detail).toMatch(/32 levels/);
    const me = await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token) });
    expect(me.statusCode).toBe(200);
  });

  it('registration with deeply nested metadata is a 422 and creates nobody', async () => {
    const res = await gk.app.inject({
      method: 'POST',
      url: '/auth/register',
      ...rawJson(`{"username":"deep_one","password":"${STRONG_PASSWORD}","metadata":${nested(4_000)}}`),
    });
    expectError(res, 422, 'VALIDATION_ERROR');
    const again = await gk.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { username: 'deep_one', password: STRONG_PASSWORD },
    });
    expect(again.statusCode, again.body).toBe(201);
  });

  it.each([
    ['metadata value', `{"username":"sur_a","password":"${STRONG_PASSWORD}","metadata":{"k":"\\ud800"}}`, 'metadata'],
    ['metadata key', `{"username":"sur_b","password":"${STRONG_PASSWORD}","metadata":{"\\udfff":1}}`, 'metadata'],
    ['email', `{"username":"sur_c","password":"${STRONG_PASSWORD}","email":"x\\ud800@example.com"}`, 'email'],
    ['password', `{"username":"sur_d","password":"Sup3r-Secret!\\ud800"}`, 'password'],
  ])('an unpaired surrogate in the %s of a registration is a 422', async (_name, body, field) => {
    const res = await gk.app.inject({ method: 'POST', url: '/auth/register', ...rawJson(body) });
    expectError(res, 422, 'VALIDATION_ERROR');
    const errors = json(res).errors as { field: string }[];
    expect(errors.map((e) => e.field)).toContain(field);
  });

  it('a properly paired surrogate (an emoji) is ordinary text', async () => {
    const res = await gk.app.inject({
      method: 'PUT',
      url: '/auth/me',
      ...rawJson('{"metadata":{"mood":"\\ud83d\\ude00"}}', bearer(token)),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect((json(res).metadata as Record<string, unknown>).mood).toBe('😀');
  });

  it('an unpaired surrogate in PUT /auth/me metadata is a 422', async () => {
    const res = await gk.app.inject({
      method: 'PUT',
      url: '/auth/me',
      ...rawJson('{"metadata":{"k":"\\ud800"}}', bearer(token)),
    });
    expectError(res, 422, 'VALIDATION_ERROR');
  });

  it('a login whose username or password holds an unpaired surrogate is an ordinary 401', async () => {
    for (const body of [
      '{"username":"\\ud800","password":"Sup3r-Secret!"}',
      `{"username":"value_owner","password":"Sup3r-Secret!\\ud800"}`,
    ]) {
      const res = await gk.app.inject({ method: 'POST', url: '/auth/login', ...rawJson(body) });
      expectError(res, 401, 'INVALID_CREDENTIALS');
    }
  });
});
