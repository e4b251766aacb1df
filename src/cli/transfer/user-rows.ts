/**
 * One user as it travels between stores: a row read from a users table or a line
 * of a JSON Lines export, both keyed by the columns of the `users` table, checked
 * here against what the target schema can hold before any batch is written (a
 * value the database would refuse would roll back the whole batch). The password
 * hash is carried as it is, never looked into beyond its length.
 */
import { randomUUID } from 'node:crypto';
import { type UserRecord } from '../../store/store.js';
import { parseRole, ROLES, type Role } from '../../core/roles.js';
import { UUID_PATTERN } from '../../core/limits.js';

/** The JSON Lines form: every column of the users table, snake_case, times in ISO 8601 UTC. */
export interface UserLine {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  email: string | null;
  profile_picture_url: string | null;
  yapcoin_balance: number;
  is_active: boolean;
  created_at: string;
  updated_at: string;
  metadata: Record<string, unknown>;
}

export type RowCheck = { ok: true; user: UserRecord } | { ok: false; label: string; reason: string };

const INT32 = { min: -2147483648, max: 2147483647 };

export function userToLine(user: UserRecord): UserLine {
  return {
    id: user.id,
    username: user.username,
    password_hash: user.passwordHash,
    role: user.role,
    email: user.email,
    profile_picture_url: user.profilePictureUrl,
    yapcoin_balance: user.yapcoinBalance,
    is_active: user.isActive,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    metadata: user.metadata,
  };
}

class RowProblem extends Error {}

/**
 * Checks one raw row (from a table or a JSON line) and turns it into a UserRecord.
 * Absent optional values take the schema's defaults, as an INSERT leaving them out
 * would; a NULL `is_active` reads as inactive, as the Gatekeeper store reads it.
 * @example const check = rowToUser(JSON.parse(line), new Date()); if (!check.ok) report(check.reason);
 */
export function rowToUser(raw: Record<string, unknown>, now: Date): RowCheck {
  const label = typeof raw.username === 'string' ? `user "${raw.username}"` : `user with id ${String(raw.id)}`;
  try {
    const createdAt = timestamp(raw.created_at, 'created_at') ?? now;
    return {
      ok: true,
      user: {
        id: uuid(raw.id),
        username: text(raw.username, 'username', 50, true) ?? '',
        passwordHash: text(raw.password_hash, 'password_hash', 255, true) ?? '',
        role: role(raw.role),
        email: text(raw.email, 'email', 255, false),
        // The users table holds no confirmation (verified_emails does): a copied address is unconfirmed.
        emailVerified: false,
        profilePictureUrl: text(raw.profile_picture_url, 'profile_picture_url', 500, false),
        yapcoinBalance: balance(raw.yapcoin_balance),
        isActive: active(raw.is_active),
        createdAt,
        updatedAt: timestamp(raw.updated_at, 'updated_at') ?? createdAt,
        metadata: metadata(raw.metadata),
      },
    };
  } catch (err) {
    if (err instanceof RowProblem) return { ok: false, label, reason: err.message };
    throw err;
  }
}

/** A missing id (an export from elsewhere) gets a new one; the username still finds it again on a rerun. */
function uuid(value: unknown): string {
  if (value === null || value === undefined) return randomUUID();
  if (typeof value === 'string' && UUID_PATTERN.test(value)) return value.toLowerCase();
  throw new RowProblem('id is not a UUID');
}

/** Empty optional strings become NULL: the seed's schema has unique emails, and '' would collide. */
function text(value: unknown, column: string, max: number, required: boolean): string | null {
  if (value === null || value === undefined || (value === '' && !required)) {
    if (required) throw new RowProblem(`${column} is missing`);
    return null;
  }
  if (typeof value !== 'string') throw new RowProblem(`${column} is not a string`);
  if (value === '') throw new RowProblem(`${column} is empty`);
  if ([...value].length > max) throw new RowProblem(`${column} is longer than ${max} characters`);
  if (value.includes('\0')) throw new RowProblem(`${column} contains a NUL character`);
  return value;
}

/** Python's str-Enum may have been stored as `UserRole.ADMIN` instead of `admin`. */
function role(value: unknown): Role {
  if (value === null || value === undefined) return 'regular';
  const name = typeof value === 'string' ? value.toLowerCase().replace(/^userrole\./, '') : '';
  const found = parseRole(name);
  if (!found)
    throw new RowProblem(`role ${JSON.stringify(String(value).slice(0, 30))} is not one of ${ROLES.join(', ')}`);
  return found;
}

function balance(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= INT32.min && value <= INT32.max) return value;
  throw new RowProblem('yapcoin_balance is not a 32-bit whole number');
}

/** Absent: the column default (TRUE). NULL: inactive, as the Gatekeeper store reads a NULL. */
function active(value: unknown): boolean {
  if (value === undefined) return true;
  if (value === null) return false;
  if (typeof value === 'boolean') return value;
  throw new RowProblem('is_active is not true or false');
}

function timestamp(value: unknown, column: string): Date | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (date === null || Number.isNaN(date.getTime())) throw new RowProblem(`${column} is not a valid time`);
  return date;
}

function metadata(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new RowProblem('metadata is not a JSON object');
  // jsonb cannot hold \u0000 at all; the API refuses NUL for the same reason.
  if (JSON.stringify(value).includes('\\u0000')) throw new RowProblem('metadata contains a NUL character');
  return value as Record<string, unknown>;
}
