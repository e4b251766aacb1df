/**
 * The wire types of docs/API.md, in the wire's snake_case, written by hand for the client
 * (type-only imports: nothing here reaches a browser bundle).
 */
import type { AuditEventType } from '../core/audit-events.js';
import type { Role } from '../core/roles.js';
import type { ErrorCode, FieldError } from '../errors.js';

export type { AuditEventType, ErrorCode, FieldError, Role };

/** A user as every endpoint returns one; never a password hash. */
export interface UserPublic {
  id: string;
  username: string;
  role: Role;
  email: string | null;
  /** Whether this very email address was confirmed (POST /auth/email/verify). */
  email_verified: boolean;
  profile_picture_url: string | null;
  yapcoin_balance: number;
  is_active: boolean;
  /** ISO 8601, UTC. */
  created_at: string;
  updated_at: string;
  metadata: Record<string, unknown>;
  /** Whether the account signs in with a second factor (TOTP). */
  mfa_enabled: boolean;
}

/** POST /auth/login's answer for an account with MFA: no tokens; finish with `loginMfa`. */
export interface MfaChallenge {
  mfa_required: true;
  mfa_token: string;
  methods: ('totp' | 'recovery_code')[];
  /** Seconds the mfa_token works. */
  expires_in: number;
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  /** Seconds. */
  expires_in: number;
  refresh_expires_in: number;
}

/** What the client keeps between calls (and hands to `onTokens` for storage). */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

export interface RegisterRequest {
  username: string;
  password: string;
  email?: string | null;
  profile_picture_url?: string | null;
  metadata?: Record<string, unknown>;
}

export interface UpdateMeRequest {
  username?: string;
  email?: string | null;
  profile_picture_url?: string | null;
  metadata?: Record<string, unknown>;
}

export interface CreateUserRequest extends RegisterRequest {
  role?: Role;
  is_active?: boolean;
}

export interface UpdateUserRequest extends UpdateMeRequest {
  role?: Role;
  is_active?: boolean;
  /** The admin's word for the (new) email address, or its withdrawal. */
  email_verified?: boolean;
}

/** One live login session (GET /auth/sessions). Times are ISO 8601, UTC. */
export interface SessionInfo {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  /** The session of the access token that asked. */
  current: boolean;
}

export interface ListUsersQuery {
  skip?: number;
  /** 1–1000, default 100. */
  limit?: number;
  /** Search in username and email. */
  q?: string;
  role?: Role;
  is_active?: boolean;
}

/** A page of users and the number of all that match (`X-Total-Count`). */
export interface UserList {
  users: UserPublic[];
  total: number;
}

export interface MessageResponse {
  message: string;
}

export interface YapcoinBalance {
  username: string;
  yapcoin_balance: number;
}

export interface Stats {
  users_total: number;
  users_active: number;
  users_by_role: Record<Role, number>;
  active_sessions: number;
}

export interface CleanupResponse {
  removed: number;
}

export interface AuditQuery {
  /** A username (case-insensitive). */
  user?: string;
  event?: AuditEventType;
  /** Events at or after this time. */
  since?: string | Date;
  limit?: number;
}

export interface AuditEvent {
  id: number;
  at: string;
  event: AuditEventType;
  username: string | null;
  user_id: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

/** Every error response's body. */
export interface ErrorBody {
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
}
