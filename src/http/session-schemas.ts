/**
 * TypeBox schemas of the session routes (src/http/routes/sessions.ts and the admin's
 * GET /auth/users/{username}/sessions): validation and the OpenAPI document from one source.
 */
import { Type } from '@sinclair/typebox';

// Any string with a NUL byte is invalid input (docs/API.md), as in src/http/schemas.ts.
const NO_NUL = '^[^\\u0000]*$';

/** One live login session. */
export const SessionSchema = Type.Object({
  id: Type.String({ format: 'uuid', description: 'The `sid` claim of its access tokens.' }),
  created_at: Type.String({ format: 'date-time', description: 'The login.' }),
  last_used_at: Type.String({
    format: 'date-time',
    description: 'The login or the latest refresh; using an access token does not count (it costs no write).',
  }),
  expires_at: Type.String({
    format: 'date-time',
    description: 'When its refresh token expires; never after GATEKEEPER_SESSION_MAX_DAYS from the login.',
  }),
  ip: Type.Union([Type.Null(), Type.String()], { description: "The login's client address." }),
  user_agent: Type.Union([Type.Null(), Type.String()], {
    description: "The login's User-Agent header, at most 512 characters.",
  }),
  current: Type.Boolean({ description: 'Whether it is the session of the access token that asked.' }),
});

export const SessionListSchema = Type.Array(SessionSchema);

/**
 * Any string: an id that is no session id is SESSION_NOT_FOUND (404) like another user's,
 * not a validation error, so the answer tells nothing about the format of ids that exist.
 */
export const SessionIdParams = Type.Object({ id: Type.String({ minLength: 1, pattern: NO_NUL }) });
