/**
 * The shapes the use cases take and give, in the domain's camelCase. The wire's
 * snake_case forms of them are made in one place only: src/http/wire.ts.
 */
import type { AuditEventType } from '../core/audit-events.js';
import type { Metadata, Role } from '../core/roles.js';
import type { AccessClaims } from '../security/tokens.js';
import type { UserRecord } from '../store/store.js';

/** A started or refreshed login session: the tokens and how long each lives. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'bearer';
  expiresInSeconds: number;
  refreshExpiresInSeconds: number;
}

/** Who is calling: the verified token and the user as stored now. */
export interface Principal {
  user: UserRecord;
  claims: AccessClaims;
}

/** What a user may change on their own account. */
export interface ProfileChanges {
  username?: string;
  email?: string | null;
  profilePictureUrl?: string | null;
  metadata?: Metadata;
}

/** What an admin may change on any account. */
export interface AdminChanges extends ProfileChanges {
  role?: Role;
  isActive?: boolean;
  /** The admin's word that the (new) email is the user's, or a withdrawal of its confirmation. */
  emailVerified?: boolean;
}

/** A new account as registration or an admin asks for it; the password is still in clear. */
export interface NewAccount {
  username: string;
  password: string;
  email?: string | null;
  profilePictureUrl?: string | null;
  metadata?: Metadata;
  role?: Role;
  isActive?: boolean;
}

/** A page of the user list, filtered. */
export interface UserListQuery {
  skip: number;
  limit: number;
  q?: string;
  role?: Role;
  isActive?: boolean;
}

/** A query of the audit trail. */
export interface AuditQueryInput {
  /** A username: events recorded under that name, and those of the user who holds it now. */
  user?: string;
  event?: AuditEventType;
  since?: Date;
  limit: number;
}

/** One live login session as its user (or an admin) sees it: GET /auth/sessions. */
export interface SessionInfo {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  /** Whether it is the session of the token that asked. */
  current: boolean;
}
