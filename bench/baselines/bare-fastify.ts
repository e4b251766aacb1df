/**
 * The ceiling for an authenticated request: a bare Fastify route (no plugins, no auth, no
 * database) answering GET /auth/me with the same JSON body Gatekeeper returns (BARE_BODY),
 * in a process of its own like the service.
 */
import Fastify from 'fastify';

const body = JSON.parse(process.env.BARE_BODY ?? '{}') as Record<string, unknown>;
const app = Fastify({ logger: false });
app.get('/auth/me', async () => body);
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`bare Fastify listening on http://127.0.0.1:${port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
