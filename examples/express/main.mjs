// Another service (Express) accepting Gatekeeper's access tokens, verified locally with the JWKS.
// Run against a Gatekeeper with an asymmetric algorithm, e.g.
//   GATEKEEPER_JWT_ALGORITHM=EdDSA npx gatekeeper serve
//   GATEKEEPER_URL=http://127.0.0.1:8000 node express/main.mjs
import assert from 'node:assert/strict';
import express from 'express';
import { requireAuth, requireRole } from '@reynard/gatekeeper/express';

const GATEKEEPER = process.env.GATEKEEPER_URL ?? 'http://127.0.0.1:8000';

const app = express();
const auth = requireAuth({ jwksUrl: `${GATEKEEPER}/.well-known/jwks.json` });
app.get('/orders', auth, (req, res) => res.json({ owner: req.user.username }));
app.delete('/orders/:id', auth, requireRole('admin'), (req, res) => res.json({ deleted: req.params.id }));
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

try {
  const post = (path, body) =>
    fetch(GATEKEEPER + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const username = `carol_${Date.now()}`;
  assert.equal((await post('/auth/register', { username, password: 'Sup3r-Secret!' })).status, 201);
  const { access_token } = await (await post('/auth/login', { username, password: 'Sup3r-Secret!' })).json();
  const bearer = { authorization: `Bearer ${access_token}` };

  assert.deepEqual(await (await fetch(`${base}/orders`, { headers: bearer })).json(), { owner: username });
  const anonymous = await fetch(`${base}/orders`);
  assert.equal(anonymous.status, 401);
  assert.equal((await anonymous.json()).code, 'NOT_AUTHENTICATED');
  const forged = await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${access_token}x` } });
  assert.equal(forged.status, 401);
  const notAdmin = await fetch(`${base}/orders/7`, { method: 'DELETE', headers: bearer });
  assert.equal(notAdmin.status, 403);
  console.log('express: ok');
} finally {
  server.close();
}
