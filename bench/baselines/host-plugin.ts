/**
 * A host's own Fastify app with Gatekeeper as a plugin (src/compose/fastify-plugin.ts), as
 * docs/LIBRARY.md shows it: the contract's routes at /auth against DATABASE_URL (PostgreSQL,
 * so the per-process user cache of GATEKEEPER_USER_CACHE_SECONDS applies as in a deployment),
 * and two routes of the host returning the same small body: GET /plain with no preHandler, and
 * GET /guarded behind `app.authenticate`. The settings come from the environment (as the
 * plugin reads them by default); the host itself logs nothing, like the bare Fastify baseline.
 */
import Fastify from 'fastify';
import { gatekeeper } from '../../src/index.js';

const body = { hello: 'world', service: 'host' };
const app = Fastify({ logger: false });
await app.register(gatekeeper, {
  prefix: '/auth',
  database: process.env.DATABASE_URL ?? '',
  env: process.env,
  logger: false,
});
app.get('/plain', async () => body);
app.get('/guarded', { preHandler: app.authenticate }, async () => body);
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`host Fastify with the gatekeeper plugin listening on http://127.0.0.1:${port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
