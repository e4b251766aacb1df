// Gatekeeper in your own process: the use cases as functions, no HTTP needed.
// Run: node library/main.mjs   (keeps users in memory; pass a connection string or a pg.Pool for PostgreSQL)
import assert from 'node:assert/strict';
import { createGatekeeper, GatekeeperError } from '@reynard/gatekeeper';

const gatekeeper = await createGatekeeper({
  database: { memory: true },
  env: { GATEKEEPER_SECRET_KEY: 'example-secret-key-of-at-least-32-characters' },
  logger: false,
});
try {
  const alice = await gatekeeper.service.register({ username: 'alice', password: 'Sup3r-Secret!' });
  const tokens = await gatekeeper.service.login('alice', 'Sup3r-Secret!');
  const principal = await gatekeeper.service.authenticate(tokens.accessToken);
  assert.equal(principal.user.id, alice.id);

  // Errors are typed, with the contract's code.
  const wrong = await gatekeeper.service.login('alice', 'not her password').catch((err) => err);
  assert.ok(wrong instanceof GatekeeperError);
  assert.equal(wrong.code, 'INVALID_CREDENTIALS');

  // The same Gatekeeper over HTTP, without listening (app.listen({ port }) serves it).
  const me = await gatekeeper.app.inject({
    method: 'GET',
    url: '/auth/me',
    headers: { authorization: `Bearer ${tokens.accessToken}` },
  });
  assert.equal(me.json().username, 'alice');
  console.log('library: ok');
} finally {
  await gatekeeper.close();
}
