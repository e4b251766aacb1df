import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/verifier/index.js';
import { BACKENDS, login, register, startGatekeeper, type TestGatekeeper } from '../support/app.js';

/** The verifier of another service against a real Gatekeeper on a real port: JWKS over HTTP, real tokens. */
const ISSUER = 'https://gatekeeper.test';
const AUDIENCE = 'orders';

describe.each(BACKENDS)('createVerifier against a running Gatekeeper (%s)', (backend) => {
  let gk: TestGatekeeper | undefined;
  afterEach(async () => {
    await gk?.close();
    gk = undefined;
  });

  async function start(): Promise<{ gk: TestGatekeeper; jwksUrl: string }> {
    gk = await startGatekeeper(backend, {
      GATEKEEPER_JWT_ALGORITHM: 'EdDSA',
      GATEKEEPER_ISSUER: ISSUER,
      GATEKEEPER_AUDIENCE: AUDIENCE,
    });
    await gk.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = gk.app.server.address() as AddressInfo;
    return { gk, jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json` };
  }

  it("verifies a real login's access token through the published JWKS", async () => {
    const { gk, jwksUrl } = await start();
    const user = await register(gk.app, 'verified_alice');
    const { access_token } = await login(gk.app, 'verified_alice');
    const verifier = createVerifier({ jwksUrl }, { issuer: ISSUER, audience: AUDIENCE });
    expect(await verifier.verify(access_token)).toMatchObject({
      sub: user.id,
      username: 'verified_alice',
      role: 'regular',
      iss: ISSUER,
      aud: AUDIENCE,
    });
  });

  it('refuses it for another audience, and refuses a tampered token', async () => {
    const { gk, jwksUrl } = await start();
    await register(gk.app, 'verified_bob');
    const { access_token } = await login(gk.app, 'verified_bob');

    const billing = createVerifier({ jwksUrl }, { issuer: ISSUER, audience: 'billing' });
    await expect(billing.verify(access_token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

    const [header, payload, signature] = access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const verifier = createVerifier({ jwksUrl }, { issuer: ISSUER, audience: AUDIENCE });
    await expect(verifier.verify(`${header}.${promoted}.${signature}`)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
    expect(await verifier.verify(access_token)).toMatchObject({ username: 'verified_bob' });
  });
});
