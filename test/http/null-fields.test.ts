/**
 * `null` where the contract allows it (email, profile_picture_url) means "none", on both stores:
 * Fastify's type coercion once turned it into "" and the service then refused it as an invalid address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  bearer,
  json,
  login,
  startGatekeeper,
  STRONG_PASSWORD,
  type TestGatekeeper,
} from '../support/app.js';

describe.each(BACKENDS)('null fields (%s store)', (backend) => {
  let gk: TestGatekeeper;

  beforeAll(async () => {
    gk = await startGatekeeper(backend);
  });
  afterAll(async () => {
    await gk?.close();
  });

  it('registration with "email": null and "profile_picture_url": null creates a user without them', async () => {
    const res = await gk.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { username: 'null_fields', password: STRONG_PASSWORD, email: null, profile_picture_url: null },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ email: null, profile_picture_url: null });
  });

  it('PUT /auth/me with "profile_picture_url": null clears it', async () => {
    const { access_token } = await login(gk.app, 'null_fields');
    const set = await gk.app.inject({
      method: 'PUT',
      url: '/auth/me',
      headers: bearer(access_token),
      payload: { profile_picture_url: 'https://example.com/me.png' },
    });
    expect(set.statusCode, set.body).toBe(200);
    const cleared = await gk.app.inject({
      method: 'PUT',
      url: '/auth/me',
      headers: bearer(access_token),
      payload: { profile_picture_url: null },
    });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(json(cleared).profile_picture_url).toBeNull();
  });
});
