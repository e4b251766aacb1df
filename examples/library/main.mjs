import { createGatekeeper, GatekeeperError } from '@reynard/gatekeeper';

const gatekeeper = await createGatekeeper({
  database: process.env.DATABASE_URL ?? { memory: true }, // or a pg.Pool, or { embedded: { dataDir: './data' } }
});
const alice = await gatekeeper.service.register({ username: 'alice', password: 'Sup3r-Secret!' });
const tokens = await gatekeeper.service.login('alice', 'Sup3r-Secret!');
const { user } = await gatekeeper.service.authenticate(tokens.accessToken);
try {
  await gatekeeper.service.login('alice', 'a wrong password');
} catch (err) {
  if (!(err instanceof GatekeeperError) || err.code !== 'INVALID_CREDENTIALS') throw err;
}
// ---- checks (not in the README) ----
import assert from 'node:assert/strict';

assert.equal(user.id, alice.id);
// The same Gatekeeper over HTTP, without listening (app.listen({ port }) serves it).
const me = await gatekeeper.app.inject({
  method: 'GET',
  url: '/auth/me',
  headers: { authorization: `Bearer ${tokens.accessToken}` },
});
assert.equal(me.json().username, 'alice');
await gatekeeper.close();
console.log('library: ok');
