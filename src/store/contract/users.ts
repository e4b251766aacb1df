/**
 * The users facet of the storage contract (src/store/store.ts composes every facet).
 * Usernames and emails are unique case-insensitively, and lookups ignore case.
 */
import type { Metadata, Role } from '../../core/roles.js';

export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
  role: Role;
  email: string | null;
  /** Whether `email` (this very address) was confirmed; false without an email. */
  emailVerified: boolean;
  profilePictureUrl: string | null;
  yapcoinBalance: number;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
  metadata: Metadata;
}

/** A user to create; absent fields take the defaults of src/store/rules.ts. */
export interface NewUser {
  username: string;
  passwordHash: string;
  role?: Role;
  email?: string | null;
  profilePictureUrl?: string | null;
  yapcoinBalance?: number;
  isActive?: boolean;
  metadata?: Metadata;
  /** Only for imports/migrations that must keep the original identity and times. */
  id?: string;
  createdAt?: Date;
  updatedAt?: Date;
}

/** The fields `updateUser` may change; absent fields keep their value. */
export interface UserPatch {
  username?: string;
  passwordHash?: string;
  role?: Role;
  email?: string | null;
  /**
   * Marks the email (as it is after this patch) confirmed, or not. A changed email is never
   * verified unless the same patch says so: the confirmation belongs to one address.
   */
  emailVerified?: boolean;
  profilePictureUrl?: string | null;
  isActive?: boolean;
  metadata?: Metadata;
}

export interface UserQuery {
  skip: number;
  limit: number;
  /** Case-insensitive substring of username or email. */
  q?: string;
  role?: Role;
  isActive?: boolean;
}

export interface UserPage {
  users: UserRecord[];
  /** Number of users matching the filters, ignoring skip/limit. */
  total: number;
}

export interface UserStats {
  total: number;
  active: number;
  byRole: Record<Role, number>;
}

/** Accounts: creation, lookups, changes, the balance and the counts the admin pages show. */
export interface UsersStore {
  /** Throws USERNAME_TAKEN or EMAIL_TAKEN (a taken id counts as a taken username). */
  createUser(user: NewUser): Promise<UserRecord>;
  getUserById(id: string): Promise<UserRecord | null>;
  getUserByUsername(username: string): Promise<UserRecord | null>;
  /** By username, or by email when the login contains '@' and no username matches. */
  getUserByLogin(login: string): Promise<UserRecord | null>;
  /**
   * Applies the patch and bumps updatedAt. Throws LAST_ADMIN when the user is an
   * active admin and the patch (role or isActive) would leave no active admin.
   * Returns null when the user does not exist.
   */
  updateUser(id: string, patch: UserPatch): Promise<UserRecord | null>;
  /** Throws LAST_ADMIN when deleting the last active admin. Deletes the user's sessions too. */
  deleteUser(id: string): Promise<boolean>;
  /** Ordered by createdAt, then id. */
  listUsers(query: UserQuery): Promise<UserPage>;
  /** Atomic; throws INSUFFICIENT_BALANCE when the result would be < 0. Null when no such user. */
  addToBalance(id: string, delta: number): Promise<number | null>;
  userStats(): Promise<UserStats>;
  countActiveAdmins(): Promise<number>;
}
