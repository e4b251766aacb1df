// Gatekeeper's routes inside your Fastify app, and its guards on your own routes.
// Run: node fastify-plugin/main.mjs
import assert from 'node:assert/strict';
import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { gatekeeper } from '@reynard/gatekeeper';

const app = Fastify();
await app.register(swagger, {
  openapi: {
    info: { title: 'My app', version: '1.0.0' },
    components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
  },
});
await app.register(gatekeeper, {
  prefix: '/auth',
  database: { memory: true }, // or process.env.DATABASE_URL, or a pg.Pool
  env: {
    GATEKEEPER_SECRET_KEY: 'example-secret-key-of-at-least-32-characters',
    GATEKEEPER_ADMIN_USERNAME: 'admin',
    GATEKEEPER_ADMIN_PASSWORD: 'Adm1n-Secret!',
  },
  securityScheme: 'bearerAuth',
  logger: false,
});
app.get('/hello', { preHandler: app.authenticate }, async (request) => ({ hello: request.user.username }));
app.get('/reports', { preHandler: app.requireRole('admin') }, async () => ({ reports: [] }));
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${app.server.address().port}`;

try {
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

  const admin = await (await post('/auth/login', { username: 'admin', password: 'Adm1n-Secret!' })).json();
  assert.equal((await fetch(`${base}/reports`, { headers: { authorization: `Bearer ${admin.access_token}` } })).status, 200);
  assert.ok(app.swagger().paths['/auth/login'], 'the auth routes are in the app’s OpenAPI document');
  console.log('fastify-plugin: ok');
} finally {
  await app.close();
}
