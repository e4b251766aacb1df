import Fastify from 'fastify';
import { gatekeeper } from '@reynard/gatekeeper';

const app = Fastify();
await app.register(gatekeeper, { prefix: '/auth', database: process.env.DATABASE_URL ?? { memory: true } });
app.get('/hello', { preHandler: app.authenticate }, async (request) => ({ hello: request.user.username }));
app.get('/reports', { preHandler: app.requireRole('admin') }, async () => ({ reports: [] }));
await app.listen({ port: Number(process.env.PORT ?? 3000) });
// ---- checks (not in the README) ----
import assert from 'node:assert/strict';

const base = `http://127.0.0.1:${app.server.address().port}`;
const post = (path, body) =>
  fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
assert.equal((await post('/auth/register', { username: 'bob', password: 'Sup3r-Secret!' })).status, 201);
const { access_token } = await (await post('/auth/login', { username: 'bob', password: 'Sup3r-Secret!' })).json();
const bearer = { authorization: `Bearer ${access_token}` };
assert.deepEqual(await (await fetch(`${base}/hello`, { headers: bearer })).json(), { hello: 'bob' });
const anonymous = await fetch(`${base}/hello`);
assert.equal(anonymous.status, 401);
assert.equal((await anonymous.json()).code, 'NOT_AUTHENTICATED');
const notAdmin = await fetch(`${base}/reports`, { headers: bearer });
assert.equal(notAdmin.status, 403);
assert.equal((await notAdmin.json()).code, 'FORBIDDEN');
// The runner starts this example with GATEKEEPER_ADMIN_USERNAME/PASSWORD: the bootstrap admin exists.
const admin = await (
  await post('/auth/login', { username: process.env.GATEKEEPER_ADMIN_USERNAME, password: process.env.GATEKEEPER_ADMIN_PASSWORD })
).json();
assert.equal((await fetch(`${base}/reports`, { headers: { authorization: `Bearer ${admin.access_token}` } })).status, 200);
await app.close();
console.log('fastify-plugin: ok');
