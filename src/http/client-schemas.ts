import { errorResponsesWith, type ErrorStatus } from './schemas.js';
/**
 * TypeBox schemas of the OAuth client routes (src/http/routes/clients.ts) and of token
 * introspection (src/http/routes/introspect.ts): validation and the OpenAPI document
 * from one source. The use cases check the same rules authoritatively
 * (src/core/oauth-clients.ts); these bounds keep absurd input out and document it.
 */
import { Type } from '@sinclair/typebox';
import { CLIENT_LIMITS, GRANT_TYPES } from '../core/oauth-clients.js';
import { ROLES } from '../core/roles.js';
import { ERROR_CODES } from '../errors.js';

// Any string with a NUL byte is invalid input (docs/API.md), as in src/http/schemas.ts.
const NO_NUL = '^[^\\u0000]*$';
const text = (options: { minLength?: number; maxLength?: number; description?: string } = {}) =>
  Type.String({ pattern: NO_NUL, ...options });

const GrantTypeName = Type.Union(
  GRANT_TYPES.map((g) => Type.Literal(g)),
  { description: 'An OAuth grant type the client may use.' },
);

/** A registered client as the admin API shows it: never its secret or the secret's hash. */
export const ClientSchema = Type.Object({
  client_id: Type.String({ description: 'The public identifier the client authenticates with (gk_…).' }),
  name: Type.String(),
  public: Type.Boolean({ description: 'A public client has no secret (and cannot introspect).' }),
  redirect_uris: Type.Array(Type.String(), { description: 'Compared exactly.' }),
  grant_types: Type.Array(Type.String()),
  first_party: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  secret_rotated_at: Type.Union([Type.Null(), Type.String({ format: 'date-time' })]),
  created_by: Type.Union([Type.Null(), Type.String()]),
});

/** POST /auth/clients: the client and, for a confidential one, its secret, shown this once. */
export const ClientCreatedSchema = Type.Object({
  ...ClientSchema.properties,
  client_secret: Type.Union([Type.Null(), Type.String()], {
    description: 'Shown only in this answer; store it now. Null for a public client.',
  }),
});

/** POST /auth/clients/{client_id}/rotate-secret: the new secret, shown this once. */
export const ClientSecretSchema = Type.Object({
  ...ClientSchema.properties,
  client_secret: Type.String({ description: 'Shown only in this answer; the previous secret no longer works.' }),
});

export const CreateClientBody = Type.Object(
  {
    name: text({ minLength: 1, maxLength: CLIENT_LIMITS.nameMax }),
    redirect_uris: Type.Optional(
      Type.Array(text({ minLength: 1, maxLength: CLIENT_LIMITS.redirectUriMax }), {
        maxItems: CLIENT_LIMITS.redirectUrisMax,
        description: 'Absolute URIs without a fragment; https (http only on a loopback host).',
      }),
    ),
    grant_types: Type.Optional(Type.Array(GrantTypeName, { maxItems: GRANT_TYPES.length })),
    public: Type.Optional(Type.Boolean({ description: 'Default false: a confidential client with a secret.' })),
    first_party: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

export const ClientIdParams = Type.Object({ client_id: text({ minLength: 1, maxLength: 255 }) });

/**
 * RFC 7662 §2.1 (form or JSON). Everything optional here: a missing token is the RFC's
 * 400 invalid_request (not a 422), and unknown parameters are ignored (RFC 6749 §3.2).
 */
export const IntrospectBody = Type.Object(
  {
    token: Type.Optional(text({ maxLength: 16_384 })),
    token_type_hint: Type.Optional(text({ maxLength: 100, description: 'Ignored: the token says what it is.' })),
    client_id: Type.Optional(text({ maxLength: 255, description: 'client_secret_post (instead of HTTP Basic).' })),
    client_secret: Type.Optional(text({ maxLength: 255 })),
  },
  { additionalProperties: true },
);

/** RFC 7662 §2.2: `{active: false}` alone, or the token's owner and times. */
export const IntrospectionResponse = Type.Object({
  active: Type.Boolean(),
  sub: Type.Optional(Type.String({ description: "The user's id." })),
  username: Type.Optional(Type.String()),
  role: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: [...ROLES] })),
  sid: Type.Optional(Type.String({ description: 'The login session (refresh-token family).' })),
  exp: Type.Optional(Type.Integer({ description: 'Seconds since the epoch.' })),
  iat: Type.Optional(Type.Integer({ description: 'Seconds since the epoch.' })),
  iss: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  token_type: Type.Optional(
    Type.Unsafe<'access_token' | 'refresh_token'>({ type: 'string', enum: ['access_token', 'refresh_token'] }),
  ),
});

/** The contract's error body plus RFC 6749 §5.2's members, for the introspection endpoint. */
export const OAuthErrorBodySchema = Type.Object({
  error: Type.String({ description: 'invalid_client, invalid_request, … (RFC 6749 §5.2).' }),
  error_description: Type.String(),
  detail: Type.String(),
  code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});

/** OAuth error responses for the OpenAPI document (with the same headers and descriptions as the others). */
export function oauthErrorResponses(...statuses: ErrorStatus[]) {
  return errorResponsesWith(OAuthErrorBodySchema, ...statuses);
}
