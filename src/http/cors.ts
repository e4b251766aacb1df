/**
 * CORS for browsers calling Gatekeeper from other origins (GATEKEEPER_CORS_ORIGINS).
 * Off when the list is empty: no header is ever sent, so browsers keep the
 * same-origin rule. Written out here because it is a handful of headers and
 * @fastify/cors is not a dependency. Credentials (cookies) are never allowed:
 * Gatekeeper authenticates with Bearer tokens, which browsers do not send on their own.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';

const ALLOWED_METHODS = 'GET, POST, PUT, DELETE';
const ALLOWED_HEADERS = 'Authorization, Content-Type';
/** Headers of docs/API.md a script needs to read: paging, throttling and the auth challenge. */
const EXPOSED_HEADERS = 'Retry-After, X-Total-Count, WWW-Authenticate';
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Adds the CORS hook to `app` for `origins` (exact `scheme://host[:port]` entries, or `*`).
 * @example installCors(app, ['https://app.example.com'])
 */
export function installCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);

  app.addHook('onRequest', async (request, reply) => {
    // Caches must not serve one origin's answer to another.
    reply.header('Vary', 'Origin');
    const origin = request.headers.origin;
    if (origin === undefined || !(anyOrigin || allowed.has(origin))) return;
    reply.header('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      return preflight(reply);
    }
    reply.header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  });
}

function preflight(reply: FastifyReply): FastifyReply {
  return reply
    .header('Access-Control-Allow-Methods', ALLOWED_METHODS)
    .header('Access-Control-Allow-Headers', ALLOWED_HEADERS)
    .header('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS))
    .code(204)
    .send();
}
