// The typed HTTP client (Node 20 or a browser): sign up, sign in, refresh, sign out.
// Run: GATEKEEPER_URL=http://127.0.0.1:8000 node client/main.mjs
import assert from 'node:assert/strict';
import { GatekeeperClient, GatekeeperClientError } from '@reynard/gatekeeper/client';

const client = new GatekeeperClient({ baseUrl: process.env.GATEKEEPER_URL ?? 'http://127.0.0.1:8000' });
const username = `dave_${Date.now()}`;

await client.register({ username, password: 'Sup3r-Secret!' });
await client.login({ username, password: 'Sup3r-Secret!' });
assert.equal((await client.me()).username, username);
await client.refresh(); // also done automatically, once, when a call gets 401
assert.equal((await client.me()).username, username);
await client.logout();

const failure = await client.login({ username, password: 'wrong password' }).catch((err) => err);
assert.ok(failure instanceof GatekeeperClientError);
assert.equal(failure.status, 401);
assert.equal(failure.code, 'INVALID_CREDENTIALS');
console.log('client: ok');
