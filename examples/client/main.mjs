import { GatekeeperClient, GatekeeperClientError } from '@reynard/gatekeeper/client';

const client = new GatekeeperClient({ baseUrl: process.env.GATEKEEPER_URL ?? 'http://127.0.0.1:8000' });
const username = `dave_${Date.now()}`;
await client.register({ username, password: 'Sup3r-Secret!' });
await client.login({ username, password: 'Sup3r-Secret!' });
const me = await client.me(); // a 401 (expired access token) refreshes once and repeats the call
await client.logout();
try {
  await client.login({ username, password: 'a wrong password' });
} catch (err) {
  if (!(err instanceof GatekeeperClientError) || err.code !== 'INVALID_CREDENTIALS') throw err;
}
// ---- checks (not in the README) ----
import assert from 'node:assert/strict';

assert.equal(me.username, username);
await client.login({ username, password: 'Sup3r-Secret!' });
const before = client.tokens?.refresh_token;
await client.refresh();
assert.notEqual(client.tokens?.refresh_token, before);
assert.equal((await client.me()).username, username);
const failure = await client.login({ username, password: 'wrong password' }).catch((err) => err);
assert.equal(failure.status, 401);
assert.equal(failure.code, 'INVALID_CREDENTIALS');
console.log('client: ok');
