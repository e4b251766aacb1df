import express from 'express';
import { requireAuth, requireRole } from '@reynard/gatekeeper/express';

const GATEKEEPER = process.env.GATEKEEPER_URL ?? 'http://127.0.0.1:8000'; // with GATEKEEPER_JWT_ALGORITHM=EdDSA
const app = express();
const auth = requireAuth({ jwksUrl: `${GATEKEEPER}/.well-known/jwks.json` });
app.get('/orders', auth, (req, res) => res.json({ owner: req.user.username }));
app.delete('/orders/:id', auth, requireRole('admin'), (req, res) => res.json({ deleted: req.params.id }));
const server = app.listen(Number(process.env.PORT ?? 3000));
// ---- checks (not in the README) ----
import assert from 'node:assert/strict';

await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
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
assert.equal((await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${access_token}x` } })).status, 401);
assert.equal((await fetch(`${base}/orders/7`, { method: 'DELETE', headers: bearer })).status, 403);
server.close();
console.log('express: ok');
