/**
 * Every mapping between the wire's snake_case (docs/API.md) and the domain's
 * camelCase, both ways: what the routes send (users, token pairs, audit events,
 * stats, health, balances) and what they take (registration, admin creation,
 * profile and admin changes, list and audit queries; OAuth clients and introspection).
 * Routes call these and rename no field themselves.
 */
import type { Static } from '@sinclair/typebox';
import type {
  AdminChanges,
  AuditQueryInput,
  IntrospectionResult,
  MfaChallenge,
  NewAccount,
  NewClientInput,
  ProfileChanges,
  ServiceHealth,
  SessionInfo,
  TokenPair,
  TotpSetup,
  UserListQuery,
} from '../auth/auth-service.js';
import type { AuditEventType } from '../core/audit-events.js';
import { invalidField } from '../errors.js';
import type { AuditEventRecord, OAuthClientRecord, UserRecord, UserStats } from '../store/store.js';
import type { ClientSchema, CreateClientBody, IntrospectionResponse } from './client-schemas.js';
import type { SessionSchema } from './session-schemas.js';
import type {
  AdminCreateBody,
  AdminUpdateBody,
  AuditEventSchema,
  AuditQuery,
  HealthResponse,
  ListUsersQuery,
  RegisterBody,
  StatsResponse,
  TokenResponseSchema,
  MfaChallengeSchema,
  UpdateMeBody,
  UserPublic,
  YapcoinResponse,
} from './schemas.js';
import type { TotpSetupResponse } from './mfa-schemas.js';

// --- outbound ----------------------------------------------------------------------------------

/**
 * Wire forms of cached user records. Those are frozen and shared by every request of
 * the user (store/user-state-cache.ts), so their wire form is made once, not per
 * request (two date formats were a visible share of GET /auth/me).
 */
const userForms = new WeakMap<UserRecord, { on: UserPublic; off: UserPublic }>();

/**
 * The wire form of a user. The password hash never leaves through here. `mfaEnabled` is not
 * part of the user record (it is the MFA facet's, read only where a user is shown).
 */
export function toUserPublic(user: UserRecord, mfaEnabled: boolean): UserPublic {
  if (!Object.isFrozen(user)) return userForm(user, mfaEnabled);
  let forms = userForms.get(user);
  if (forms === undefined) {
    forms = { on: Object.freeze(userForm(user, true)), off: Object.freeze(userForm(user, false)) };
    userForms.set(user, forms);
  }
  return mfaEnabled ? forms.on : forms.off;
}

function userForm(user: UserRecord, mfaEnabled: boolean): UserPublic {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    email: user.email,
    email_verified: user.emailVerified,
    profile_picture_url: user.profilePictureUrl,
    yapcoin_balance: user.yapcoinBalance,
    is_active: user.isActive,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    metadata: user.metadata,
    mfa_enabled: mfaEnabled,
  };
}

/** POST /auth/login's answer for an account with MFA. */
export function toMfaChallenge(challenge: MfaChallenge): Static<typeof MfaChallengeSchema> {
  return {
    mfa_required: true,
    mfa_token: challenge.mfaToken,
    methods: [...challenge.methods],
    expires_in: challenge.expiresInSeconds,
  };
}

/** POST /auth/mfa/totp/setup. */
export function toTotpSetupResponse(setup: TotpSetup): Static<typeof TotpSetupResponse> {
  return { secret: setup.secret, otpauth_url: setup.otpauthUrl, qr_svg: setup.qrSvg };
}

/** The OAuth2-style token response of login, refresh and change-password. */
export function toTokenResponse(pair: TokenPair): Static<typeof TokenResponseSchema> {
  return {
    access_token: pair.accessToken,
    refresh_token: pair.refreshToken,
    token_type: pair.tokenType,
    expires_in: pair.expiresInSeconds,
    refresh_expires_in: pair.refreshExpiresInSeconds,
  };
}

/** One line of the audit trail. `detail` is stored in its wire form already and passes as it is. */
export function toAuditEvent(event: AuditEventRecord): Static<typeof AuditEventSchema> {
  return {
    id: event.id,
    at: event.at.toISOString(),
    event: event.event,
    username: event.username,
    user_id: event.userId,
    ip: event.ip,
    detail: event.detail,
  };
}

/** GET /auth/stats. */
export function toStatsResponse(stats: UserStats & { activeSessions: number }): Static<typeof StatsResponse> {
  return {
    users_total: stats.total,
    users_active: stats.active,
    users_by_role: stats.byRole,
    active_sessions: stats.activeSessions,
  };
}

/** GET /health; the pool's figures have the same names on both sides. */
export function toHealthResponse(health: ServiceHealth, version: string): Static<typeof HealthResponse> {
  return {
    status: health.reachable ? 'ok' : 'unavailable',
    backend: health.backend,
    version,
    database: {
      reachable: health.reachable,
      latency_ms: health.latencyMs,
      server_version: health.serverVersion,
      pool: health.pool,
      ...(health.error === undefined ? {} : { error: health.error }),
    },
  };
}

/** POST /auth/users/:username/yapcoins. */
export function toYapcoinResponse(result: { username: string; balance: number }): Static<typeof YapcoinResponse> {
  return { username: result.username, yapcoin_balance: result.balance };
}

// --- inbound -----------------------------------------------------------------------------------

/** POST /auth/register. */
export function fromRegisterBody(body: Static<typeof RegisterBody>): NewAccount {
  return {
    username: body.username,
    password: body.password,
    email: body.email,
    profilePictureUrl: body.profile_picture_url,
    metadata: body.metadata,
    role: body.role,
  };
}

/** POST /auth/users: registration's fields plus whether the account starts active. */
export function fromAdminCreateBody(body: Static<typeof AdminCreateBody>): NewAccount {
  return { ...fromRegisterBody(body), isActive: body.is_active };
}

/** PUT /auth/me: the profile fields only (the route refuses the admin-only ones before this). */
export function fromProfileBody(body: Static<typeof UpdateMeBody>): ProfileChanges {
  return {
    username: body.username,
    email: body.email,
    profilePictureUrl: body.profile_picture_url,
    metadata: body.metadata,
  };
}

/** The fields of PUT /auth/me's body the schema names, that only an admin may change. */
const PROFILE_FIELDS: ReadonlySet<string> = new Set([
  'username',
  'email',
  'profile_picture_url',
  'metadata',
  'current_password', // not a field of the profile: the proof an email change asks for
]);

/** The admin-only fields a PUT /auth/me body sets, in the order they were sent (to refuse them by name). */
export function adminOnlyFieldsOf(body: Static<typeof UpdateMeBody>): string[] {
  const fields = body as Record<string, unknown>;
  return Object.keys(fields).filter((k) => !PROFILE_FIELDS.has(k) && fields[k] !== undefined);
}

/** PUT /auth/users/:username. */
export function fromAdminUpdateBody(body: Static<typeof AdminUpdateBody>): AdminChanges {
  return { ...fromProfileBody(body), role: body.role, isActive: body.is_active, emailVerified: body.email_verified };
}

/** GET /auth/users; an empty search is no search. */
export function fromListUsersQuery(query: Static<typeof ListUsersQuery>): UserListQuery {
  return {
    skip: query.skip,
    limit: query.limit,
    q: query.q || undefined,
    role: query.role,
    isActive: query.is_active,
  };
}

/**
 * GET /auth/audit; a `since` that is no date is a VALIDATION_ERROR on that field. The
 * type provider sees `event` as `unknown` (an enum schema), hence its type here.
 */
export function fromAuditQuery(query: Omit<Static<typeof AuditQuery>, 'event'> & { event?: unknown }): AuditQueryInput {
  const since = query.since === undefined ? undefined : new Date(query.since);
  if (since !== undefined && Number.isNaN(since.getTime()))
    throw invalidField('since', 'must be an ISO 8601 date-time');
  return {
    user: query.user,
    // Validated against the enum of AUDIT_EVENTS by the schema; the type provider only sees `unknown`.
    event: query.event as AuditEventType | undefined,
    since,
    limit: query.limit,
  };
}

// --- OAuth clients and introspection (src/http/client-schemas.ts) ------------------------------

/** A client as the admin API shows it: never the secret's hash. */
export function toClient(client: OAuthClientRecord): Static<typeof ClientSchema> {
  return {
    client_id: client.clientId,
    name: client.name,
    public: client.secretHash === null,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    first_party: client.firstParty,
    created_at: client.createdAt.toISOString(),
    secret_rotated_at: client.secretRotatedAt?.toISOString() ?? null,
    created_by: client.createdBy,
  };
}

/** POST /auth/clients and rotate-secret: the client plus its secret in clear, this once. */
export function toClientWithSecret<S extends string | null>(result: {
  client: OAuthClientRecord;
  clientSecret: S;
}): Static<typeof ClientSchema> & { client_secret: S } {
  return { ...toClient(result.client), client_secret: result.clientSecret };
}

/** POST /auth/clients. */
export function fromCreateClientBody(body: Static<typeof CreateClientBody>): NewClientInput {
  return {
    name: body.name,
    redirectUris: body.redirect_uris,
    grantTypes: body.grant_types,
    public: body.public,
    firstParty: body.first_party,
  };
}

/** POST /auth/introspect (RFC 7662 §2.2). */
export function toIntrospectionResponse(result: IntrospectionResult): Static<typeof IntrospectionResponse> {
  if (!result.active) return { active: false };
  const { tokenType, ...claims } = result;
  return { ...claims, token_type: tokenType };
}

/** One session of GET /auth/sessions (and the admin's list). */
export function toSessionResponse(session: SessionInfo): Static<typeof SessionSchema> {
  return {
    id: session.id,
    created_at: session.createdAt.toISOString(),
    last_used_at: session.lastUsedAt.toISOString(),
    expires_at: session.expiresAt.toISOString(),
    ip: session.ip,
    user_agent: session.userAgent,
    current: session.current,
  };
}
