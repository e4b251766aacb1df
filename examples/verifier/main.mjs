import { bearerToken, createVerifier } from '@reynard/gatekeeper/verifier';

const GATEKEEPER = process.env.GATEKEEPER_URL ?? 'https://auth.example.com';
const verifier = createVerifier({
  jwksUrl: `${GATEKEEPER}/.well-known/jwks.json`,
  introspection: {
    url: `${GATEKEEPER}/auth/introspect`,
    clientId: process.env.GATEKEEPER_CLIENT_ID,
    clientSecret: process.env.GATEKEEPER_CLIENT_SECRET,
  },
});
/** The caller's claims ({ sub, username, role, sid, … }), or a GatekeeperError such as TOKEN_REVOKED. */
export const userOf = async (authorizationHeader) => verifier.verify(bearerToken(authorizationHeader));
// ---- checks (not in the README) ----
import assert from 'node:assert/strict';

const post = (path, body, headers = {}) =>
  fetch(GATEKEEPER + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const username = `frank_${Date.now()}`;
assert.equal((await post('/auth/register', { username, password: 'Sup3r-Secret!' })).status, 201);
const { access_token } = await (await post('/auth/login', { username, password: 'Sup3r-Secret!' })).json();
assert.equal((await userOf(`Bearer ${access_token}`)).username, username);

// Verified locally only: fast, but a logged-out token stays valid until it expires.
const localOnly = createVerifier({ jwksUrl: `${GATEKEEPER}/.well-known/jwks.json` });
assert.equal((await post('/auth/logout', {}, { authorization: `Bearer ${access_token}` })).status, 200);
assert.equal((await localOnly.verify(access_token)).username, username);
// With introspection the logout counts at once (after the answer cache, default 5 s: this token was
// asked about above, so wait for a fresh answer instead of sleeping a fixed time).
const refusal = await waitForRefusal(() => userOf(`Bearer ${access_token}`), 15_000);
assert.equal(refusal.code, 'TOKEN_REVOKED');
await assert.rejects(userOf(undefined), (err) => err.code === 'NOT_AUTHENTICATED');
console.log('verifier: ok');

async function waitForRefusal(verify, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const outcome = await verify().then(() => null, (err) => err);
    if (outcome) return outcome;
    if (Date.now() > deadline) throw new Error('the revoked token was still accepted');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
