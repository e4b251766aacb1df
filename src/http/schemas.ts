import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { USERNAME_PATTERN } from '../core/validation.js';
import { ERROR_CODES } from '../errors.js';
import { AUDIT_EVENTS, type AuditEventType } from '../core/audit-events.js';
import { LIMITS } from '../core/limits.js';
import { BALANCE_MAX, SKIP_MAX } from '../auth/administration.js';

/** One definition per shape: Fastify validates with it and the OpenAPI document is generated from it. */

// Any string with a NUL byte is invalid input (docs/API.md): PostgreSQL cannot store it and it hides truncation tricks.
const NO_NUL = '^[^\\u0000]*$';
const text = (options: { minLength?: number; maxLength?: number; description?: string } = {}) =>
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
    profile_picture_url: nullable(Type.String()),
    yapcoin_balance: Type.Integer(),
    is_active: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    metadata: Type.Record(Type.String(), Type.Unknown()),
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

export const MessageSchema = Type.Object({ message: Type.String() });

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
  },
  { additionalProperties: false },
);

export const ChangePasswordBody = Type.Object(
  { current_password: text({ minLength: 1, maxLength: LIMITS.passwordMax }), new_password: Password },
  { additionalProperties: false },
);

/** What registration takes, plus whether the account starts active (admins only). */
export const AdminCreateBody = Type.Object(
  { ...RegisterBody.properties, is_active: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const AdminUpdateBody = Type.Object(
  { ...ProfileFields, role: Type.Optional(RoleSchema), is_active: Type.Optional(Type.Boolean()) },
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

/** Standard error responses for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorBodySchema> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBodySchema]));
}
