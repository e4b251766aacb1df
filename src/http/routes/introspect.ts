import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthService } from '../../auth/auth-service.js';
import { IntrospectBody, IntrospectionResponse, oauthErrorResponses } from '../client-schemas.js';
import { clientCredentialsOf } from '../client-credentials.js';
import { sendError } from '../error-handler.js';
import { jsonResponse } from '../schemas.js';
import { toIntrospectionResponse } from '../wire.js';

const NO_STORE = { 'Cache-Control': { type: 'string' as const, description: 'Always `no-store`.' } };

/** RFC 6749 §2.3.1: a failed client authentication challenges for HTTP Basic. */
const OAUTH = { challenge: 'Basic realm="gatekeeper"' };

/** POST /auth/introspect (RFC 7662) for Gatekeeper's own access and refresh tokens. */
export function introspectRoutes(service: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    // This plugin's errors carry RFC 6749 §5.2's `error` members beside the contract's `detail` and `code`.
    app.setErrorHandler((error, request, reply) => sendError(request, reply, error, OAUTH));

    app.post(
      '/introspect',
      {
        preValidation: async (request) => {
          request.body ??= {}; // no body at all: a missing token (400), not a schema error
        },
        schema: {
          operationId: 'introspectToken',
          tags: ['auth'],
          summary: 'RFC 7662: is this access or refresh token active, and whose is it (for registered clients)',
          description:
            'Form (`application/x-www-form-urlencoded`) or JSON with `token`. The client authenticates with HTTP ' +
            'Basic (client id and secret form-urlencoded, then base64: RFC 6749 §2.3.1) or with `client_id` and ' +
            '`client_secret` in the body; public clients cannot introspect. Failed client authentications count ' +
            "against the address's login throttle (429 past it). Revoked, expired, foreign or malformed tokens are " +
            '`{"active": false}`.',
          consumes: ['application/x-www-form-urlencoded', 'application/json'],
          body: IntrospectBody,
          response: {
            200: jsonResponse('Whether the token is active, and whose it is.', IntrospectionResponse, NO_STORE),
            ...oauthErrorResponses(400, 401, 413, 415, 422, 429, 503),
          },
        },
      },
      async (request, reply) => {
        const body = request.body ?? {};
        const credentials = clientCredentialsOf(request.headers.authorization, body);
        const result = await service.introspect(credentials, body.token, { ip: request.ip });
        return reply
          .header('Cache-Control', 'no-store')
          .header('Pragma', 'no-cache')
          .send(toIntrospectionResponse(result));
      },
    );
  };
}
