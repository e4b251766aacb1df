import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { USERNAME_PATTERN } from '../core/validation.js';
import { ERROR_CODES } from '../errors.js';
import { AUDIT_EVENTS, type AuditEventType } from '../core/audit-events.js';
import { LIMITS } from '../core/limits.js';
import { BALANCE_MAX, SKIP_MAX } from '../auth/administration.js';

/** One definition per shape: Fastify validates with it and the OpenAPI document is generated from it. */

// Any string with a NUL byte is invalid input (docs/API.md): PostgreSQL cannot store it and it hides truncation tricks.
const NO_NUL = '^[^\\u0000]*$';
/** A string without NUL bytes (docs/API.md: such input is invalid), with optional bounds. */
export const text = (options: { minLength?: number; maxLength?: number; description?: string } = {}) =>
  Type.String({ pattern: NO_NUL, ...options });

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('regular'), Type.Literal('guest')]);
const Username = Type.String({
  minLength: LIMITS.usernameMin,
  maxLength: LIMITS.usernameMax,
  pattern: USERNAME_PATTERN,
  description: 'Letters, digits, _ and -; unique case-insensitively.',
});
const Password = text({ maxLength: LIMITS.passwordMax, description: 'Checked against the password policy.' });
const Email = text({ maxLength: LIMITS.emailMax });
const ProfilePictureUrl = text({ maxLength: LIMITS.profilePictureUrlMax });
const Metadata = Type.Record(Type.String(), Type.Unknown(), {
  description: 'A JSON object, at most 16 KiB serialized.',
});
// Null first: with the coerceTypes Fastify turns on, a string branch tried first would turn null into "".
const nullable = <T extends TSchema>(schema: T) => Type.Union([Type.Null(), schema]);

export const ErrorBodySchema = Type.Object(
  {
    detail: Type.String(),
    code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'ErrorBody' },
);

export const UserPublicSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    username: Type.String(),
    role: RoleSchema,
    email: nullable(Type.String()),
    email_verified: Type.Boolean({ description: 'Whether this very email address was confirmed.' }),
    profile_picture_url: nullable(Type.String()),
    yapcoin_balance: Type.Integer(),
    is_active: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    mfa_enabled: Type.Boolean({ description: 'Whether the account signs in with a second factor (TOTP).' }),
  },
  { $id: 'UserPublic' },
);
export type UserPublic = Static<typeof UserPublicSchema>;

export const TokenResponseSchema = Type.Object(
  {
    access_token: Type.String(),
    refresh_token: Type.String(),
    token_type: Type.Literal('bearer'),
    expires_in: Type.Integer(),
    refresh_expires_in: Type.Integer(),
  },
  { $id: 'TokenResponse' },
);

export const MessageSchema = Type.Object({ message: Type.String() }, { $id: 'Message' });

/** POST /auth/login's answer for an account with MFA: no tokens, a second step to take. */
export const MfaChallengeSchema = Type.Object(
  {
    mfa_required: Type.Literal(true),
    mfa_token: Type.String({ description: 'Spend it at POST /auth/login/mfa with a code; works once, briefly.' }),
    methods: Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')])),
    expires_in: Type.Integer({ description: 'Seconds the mfa_token works.' }),
  },
  { $id: 'MfaChallenge' },
);

export const RegisterBody = Type.Object(
  {
    username: Username,
    password: Password,
    email: Type.Optional(nullable(Email)),
    profile_picture_url: Type.Optional(nullable(ProfilePictureUrl)),
    metadata: Type.Optional(Metadata),
    role: Type.Optional(RoleSchema),
  },
  { additionalProperties: false },
);

export const LoginBody = Type.Object(
  {
    username: text({ minLength: 1, maxLength: 255, description: 'Username or email.' }),
    password: text({ minLength: 1, maxLength: LIMITS.passwordMax }),
    grant_type: Type.Optional(Type.Literal('password')),
    scope: Type.Optional(text({ maxLength: 1000 })),
    client_id: Type.Optional(text({ maxLength: 255 })),
    client_secret: Type.Optional(text({ maxLength: 255 })),
  },
  { additionalProperties: false },
);

export const RefreshBody = Type.Object(
  { refresh_token: text({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);

export const LogoutBody = Type.Object(
  { refresh_token: Type.Optional(text({ minLength: 1, maxLength: 512 })) },
  { additionalProperties: false },
);

const ProfileFields = {
  username: Type.Optional(Username),
  email: Type.Optional(nullable(Email)),
  profile_picture_url: Type.Optional(nullable(ProfilePictureUrl)),
  metadata: Type.Optional(Metadata),
};

/** Admin-only fields are declared so that sending them gives a clear 403 rather than a generic 422. */
export const UpdateMeBody = Type.Object(
  {
    ...ProfileFields,
    current_password: Type.Optional(
      text({
        minLength: 1,
        maxLength: LIMITS.passwordMax,
        description: 'Needed to change the email (unless you logged in within 5 minutes).',
      }),
    ),
    role: Type.Optional(Type.Unknown()),
    is_active: Type.Optional(Type.Unknown()),
    yapcoin_balance: Type.Optional(Type.Unknown()),
    email_verified: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export const ChangePasswordBody = Type.Object(
  { current_password: text({ minLength: 1, maxLength: LIMITS.passwordMax }), new_password: Password },
  { additionalProperties: false },
);

/** Who forgot their password: exactly one of the two (checked by the route). */
export const ForgotPasswordBody = Type.Object(
  { email: Type.Optional(Email), username: Type.Optional(text({ minLength: 1, maxLength: 255 })) },
  { additionalProperties: false },
);

export const ResetPasswordBody = Type.Object(
  {
    token: text({ minLength: 1, maxLength: 256, description: 'The token from the mailed link (its `#token=` part).' }),
    new_password: Password,
  },
  { additionalProperties: false },
);

/** The link's token, or (signed in) the mailed short code: exactly one (checked by the route). */
export const VerifyEmailBody = Type.Object(
  {
    token: Type.Optional(
      text({ minLength: 1, maxLength: 256, description: 'The token from the mailed link (its `#token=` part).' }),
    ),
    code: Type.Optional(
      text({ minLength: 1, maxLength: 32, description: 'The mailed short code; needs the bearer token of its owner.' }),
    ),
  },
  { additionalProperties: false },
);

/** What registration takes, plus whether the account starts active (admins only). */
export const AdminCreateBody = Type.Object(
  { ...RegisterBody.properties, is_active: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const AdminUpdateBody = Type.Object(
  {
    ...ProfileFields,
    role: Type.Optional(RoleSchema),
    is_active: Type.Optional(Type.Boolean()),
    email_verified: Type.Optional(
      Type.Boolean({ description: "Marks the (new) email confirmed, or not: an admin's word for the address." }),
    ),
  },
  { additionalProperties: false },
);

export const UsernameParams = Type.Object({ username: text({ minLength: 1, maxLength: 255 }) });

export const ListUsersQuery = Type.Object(
  {
    skip: Type.Integer({ minimum: 0, maximum: SKIP_MAX, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    q: Type.Optional(text({ maxLength: 255 })),
    role: Type.Optional(RoleSchema),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const YapcoinBody = Type.Object(
  { delta: Type.Integer({ minimum: -BALANCE_MAX, maximum: BALANCE_MAX }) },
  { additionalProperties: false },
);

export const YapcoinResponse = Type.Object({ username: Type.String(), yapcoin_balance: Type.Integer() });

export const StatsResponse = Type.Object({
  users_total: Type.Integer(),
  users_active: Type.Integer(),
  users_by_role: Type.Object({ admin: Type.Integer(), regular: Type.Integer(), guest: Type.Integer() }),
  active_sessions: Type.Integer(),
});

export const CleanupResponse = Type.Object({ removed: Type.Integer() });

// An enum (rather than a union of literals) reads better in the OpenAPI document and keeps the static type.
const AuditEventName = Type.Unsafe<AuditEventType>({
  type: 'string',
  enum: [...AUDIT_EVENTS],
  description: 'One of the recorded event types.',
});

export const AuditQuery = Type.Object(
  {
    user: Type.Optional(text({ minLength: 1, maxLength: 255, description: 'A username (case-insensitive).' })),
    event: Type.Optional(AuditEventName),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601; events at or after it.' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

export const AuditEventSchema = Type.Object(
  {
    id: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    event: AuditEventName,
    username: nullable(Type.String()),
    user_id: nullable(Type.String({ format: 'uuid' })),
    ip: nullable(Type.String()),
    detail: Type.Record(Type.String(), Type.Unknown(), {
      description: 'Names, ids, reasons and before/after values; never a password or token.',
    }),
  },
  { $id: 'AuditEvent' },
);

const PoolSchema = Type.Object({
  total: Type.Integer(),
  idle: Type.Integer(),
  waiting: Type.Integer(),
  max: Type.Integer(),
});

export const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  backend: Type.Union([Type.Literal('postgres'), Type.Literal('embedded-postgres'), Type.Literal('memory')]),
  version: Type.String(),
  database: Type.Object({
    reachable: Type.Boolean(),
    latency_ms: nullable(Type.Number()),
    server_version: nullable(Type.String()),
    pool: nullable(PoolSchema),
    error: Type.Optional(Type.String()),
  }),
});

/** /health's answer: `status`, `backend` and `version` are public, `database` only for those allowed to see it. */
export const HealthSchema = Type.Object(
  { ...HealthResponse.properties, database: Type.Optional(HealthResponse.properties.database) },
  { $id: 'Health' },
);

/**
 * The named schemas: Fastify validates and serializes with them, and the OpenAPI document
 * shows each once, as `#/components/schemas/<$id>` (src/http/openapi.ts names them by $id).
 */
export const SHARED_SCHEMAS = [
  ErrorBodySchema,
  UserPublicSchema,
  TokenResponseSchema,
  AuditEventSchema,
  MessageSchema,
  HealthSchema,
  MfaChallengeSchema,
] as const;

/**
 * Adds the named schemas where they are not known yet, so every plugin that refers to
 * them works on its own (in Gatekeeper's app, or mounted in a host app) and none is added twice.
 */
export function addSharedSchemas(app: FastifyInstance): void {
  for (const schema of SHARED_SCHEMAS) {
    const id = schema.$id;
    if (id !== undefined && app.getSchema(id) === undefined) app.addSchema(schema);
  }
}

/** A reference to a named schema (typed as the schema itself): one copy in the document, not one per route. */
export function ref<T extends (typeof SHARED_SCHEMAS)[number]>(schema: T) {
  return Type.Unsafe<Static<T>>({ $ref: `${schema.$id}#` });
}

/** A documented response header. */
export interface HeaderDoc {
  type: 'string' | 'integer';
  description: string;
}

const RETRY_AFTER: HeaderDoc = { type: 'integer', description: 'Seconds to wait before trying again.' };
const WWW_AUTHENTICATE: HeaderDoc = { type: 'string', description: 'Always `Bearer`.' };

/**
 * A response in Fastify's per-media-type form, which @fastify/swagger documents as it is:
 * a description, the headers the server sets, and the JSON body's schema (used for serialization).
 */
export function jsonResponse<T extends TSchema>(description: string, schema: T, headers?: Record<string, HeaderDoc>) {
  return {
    description,
    ...(headers === undefined ? {} : { headers }),
    content: { 'application/json': { schema } },
  };
}

/** What each error status means wherever it is listed (docs/API.md, src/http/error-handler.ts). */
const ERROR_DESCRIPTIONS: Readonly<Record<ErrorStatus, string>> = {
  400: 'Malformed request (e.g. invalid JSON, `BAD_REQUEST`) or well-formed but refused (`INVALID_PASSWORD`).',
  401: 'Not authenticated: the token is missing, malformed, expired or revoked, or the credentials are wrong.',
  403: 'Authenticated but not allowed.',
  404: 'Not found.',
  409: 'Conflict (name or email taken, last admin, negative balance).',
  413: 'The request body is over 64 KiB (`PAYLOAD_TOO_LARGE`).',
  415: 'Unsupported content type (`UNSUPPORTED_MEDIA_TYPE`); send application/json.',
  422: 'Invalid input (`VALIDATION_ERROR`, with `errors` per field).',
  429: 'Throttled (`TOO_MANY_ATTEMPTS`).',
  500: 'Internal error (a bug); the detail names the request id.',
  503: 'The database is unavailable (`DATABASE_UNAVAILABLE`) or the server is busy hashing passwords (`OVERLOADED`).',
};
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

const ERROR_HEADERS: Partial<Record<ErrorStatus, Record<string, HeaderDoc>>> = {
  401: { 'WWW-Authenticate': WWW_AUTHENTICATE },
  429: { 'Retry-After': RETRY_AFTER },
  503: { 'Retry-After': RETRY_AFTER },
};

/**
 * The error responses of a route: ErrorBody, with WWW-Authenticate on 401 and Retry-After on 429
 * and 503. 500 is always listed: any route answers it on a bug (src/http/error-handler.ts).
 */
export function errorResponses(...statuses: ErrorStatus[]) {
  return errorResponsesWith(ref(ErrorBodySchema), ...statuses);
}

/** As errorResponses, with another body schema (the OAuth error body of /auth/introspect). */
export function errorResponsesWith<T extends TSchema>(body: T, ...statuses: ErrorStatus[]) {
  return Object.fromEntries(
    [...new Set<ErrorStatus>([...statuses, 500])].map((status) => [
      status,
      jsonResponse(ERROR_DESCRIPTIONS[status], body, ERROR_HEADERS[status]),
    ]),
  );
}

/**
 * Statuses every route of a kind can answer. Fastify parses a body sent to any POST, PUT or
 * DELETE route (with or without a body schema) before the route's hooks run, so malformed JSON
 * (400), an oversized body (413) and another content type (415) come before authentication.
 */
export const BODY_PARSING: readonly ErrorStatus[] = [400, 413, 415];
/** Every /auth route reads the store (sessions, users, throttle counters): 503 while it is unreachable (or, where a password is hashed, while the hash queue is full). */
export const STORE: readonly ErrorStatus[] = [503];
/** Admin routes: 401 without a valid token, 403 for other roles. */
export const ADMIN: readonly ErrorStatus[] = [401, 403];
