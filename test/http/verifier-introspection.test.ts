/**
 * The verifier other services embed (src/verifier/) with introspection, end to end: a real
 * Gatekeeper on a real port, a client registered through the admin API, tokens from a real
 * login. Local verification alone keeps accepting a logged-out token until it expires (the
 * documented trade-off); with introspection the verifier refuses it at once.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createVerifier, type IntrospectionOptions } from '../../src/verifier/index.js';
import { BACKENDS, adminTokens, login, register, startGatekeeper, type TestGatekeeper } from '../support/app.js';

const ISSUER = 'https://gatekeeper.test';
const AUDIENCE = 'orders';

describe.each(BACKENDS)('createVerifier with introspection against a running Gatekeeper (%s)', (backend) => {
  let gk: TestGatekeeper | undefined;
  afterEach(async () => {
    await gk?.close();
    gk = undefined;
  });

  async function start(): Promise<{ gk: TestGatekeeper; baseUrl: string }> {
    gk = await startGatekeeper(backend, {
      GATEKEEPER_JWT_ALGORITHM: 'EdDSA',
      GATEKEEPER_ISSUER: ISSUER,
      GATEKEEPER_AUDIENCE: AUDIENCE,
    });
    await gk.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = gk.app.server.address() as AddressInfo;
    return { gk, baseUrl: `http://127.0.0.1:${port}` };
  }

  /** Registers a confidential client over HTTP, as an admin would. */
  async function createClient(
    gk: TestGatekeeper,
    baseUrl: string,
  ): Promise<{ clientId: string; clientSecret: string }> {
    const admin = await adminTokens(gk);
    const res = await fetch(`${baseUrl}/auth/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Orders service' }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { client_id: string; client_secret: string };
    return { clientId: body.client_id, clientSecret: body.client_secret };
  }

  it('accepts a live token; after logout only the introspecting verifier refuses it', async () => {
    const { gk, baseUrl } = await start();
    const client = await createClient(gk, baseUrl);
    const user = await register(gk.app, 'verified_carol');
    const { access_token } = await login(gk.app, 'verified_carol');

    const jwksUrl = `${baseUrl}/.well-known/jwks.json`;
    const introspection: IntrospectionOptions = { url: `${baseUrl}/auth/introspect`, ...client, cacheSeconds: 0 };
    const exact = createVerifier({ jwksUrl }, { issuer: ISSUER, audience: AUDIENCE, introspection });
    const local = createVerifier({ jwksUrl }, { issuer: ISSUER, audience: AUDIENCE });

    expect(await exact.verify(access_token)).toMatchObject({ sub: user.id, username: 'verified_carol' });
    expect(await local.verify(access_token)).toMatchObject({ sub: user.id });

    const out = await fetch(`${baseUrl}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(out.status).toBe(200);

    await expect(exact.verify(access_token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    // The trade-off of local verification: a revoked token verifies until it expires.
    expect(await local.verify(access_token)).toMatchObject({ sub: user.id });
  });

  it('with a wrong client secret the token is neither accepted nor called revoked', async () => {
    const { gk, baseUrl } = await start();
    const client = await createClient(gk, baseUrl);
    await register(gk.app, 'verified_dave');
    const { access_token } = await login(gk.app, 'verified_dave');
    const verifier = createVerifier(
      { jwksUrl: `${baseUrl}/.well-known/jwks.json` },
      {
        issuer: ISSUER,
        audience: AUDIENCE,
        introspection: {
          url: `${baseUrl}/auth/introspect`,
          clientId: client.clientId,
          clientSecret: `${client.clientSecret}-wrong`,
          cacheSeconds: 0,
        },
      },
    );
    // A misconfigured service: Gatekeeper answers 401 invalid_client, the verifier reports it cannot check.
    await expect(verifier.verify(access_token)).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
  });
});
