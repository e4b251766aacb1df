/**
 * The users facet in process memory (src/store/contract/users.ts). Each method
 * runs to completion without awaiting anything, which is what makes check-then-write
 * (uniqueness, the last-admin rule, the balance) atomic here.
 */
import type { UserRecord, UsersStore, UserStats } from '../contract/users.js';
import {
  completeNewUser,
  demotesActiveAdmin,
  emailTaken,
  idTaken,
  insufficientBalance,
  isActiveAdmin,
  refuseLastAdmin,
  usernameTaken,
} from '../rules.js';
import type { Clock } from '../store.js';

export interface MemoryUsersOptions {
  now: Clock;
  /** Called when a user is deleted, so their sessions go too (the contract's cascade). */
  onDelete: (userId: string) => void;
}

/** @example const users = createMemoryUsers({ now: () => new Date(), onDelete: sessions.deleteSessionsOf }); */
export function createMemoryUsers({ now, onDelete }: MemoryUsersOptions): UsersStore {
  const users = new Map<string, UserRecord>();
  const idByUsername = new Map<string, string>();
  const idByEmail = new Map<string, string>();
  /** userId → the confirmed address in lower case (the verified_emails table of PostgreSQL). */
  const verifiedEmail = new Map<string, string>();
  /** As PostgreSQL derives it: verified while the confirmed address is the current one. */
  const copy = (user: UserRecord): UserRecord => {
    const verified = verifiedEmail.get(user.id);
    return { ...copyRecord(user), emailVerified: verified !== undefined && verified === user.email?.toLowerCase() };
  };

  const countActiveAdmins = () => {
    let count = 0;
    for (const user of users.values()) if (isActiveAdmin(user)) count += 1;
    return count;
  };
  const byId = (id: string | undefined) => {
    const user = id === undefined ? undefined : users.get(id);
    return user ? copy(user) : null;
  };

  return {
    async createUser(input) {
      const username = input.username.toLowerCase();
      const email = input.email?.toLowerCase() ?? null;
      if (idByUsername.has(username)) throw usernameTaken();
      if (email !== null && idByEmail.has(email)) throw emailTaken();
      const user = completeNewUser(input, now());
      if (users.has(user.id)) throw idTaken();
      users.set(user.id, user);
      idByUsername.set(username, user.id);
      if (email !== null) idByEmail.set(email, user.id);
      return copy(user);
    },

    async getUserById(id) {
      return byId(id);
    },

    async getUserByUsername(username) {
      return byId(idByUsername.get(username.toLowerCase()));
    },

    async getUserByLogin(login) {
      const key = login.toLowerCase();
      return byId(idByUsername.get(key) ?? (key.includes('@') ? idByEmail.get(key) : undefined));
    },

    async updateUser(id, patch) {
      const user = users.get(id);
      if (!user) return null;
      const newUsername = patch.username?.toLowerCase();
      const oldUsername = user.username.toLowerCase();
      if (newUsername !== undefined && newUsername !== oldUsername && idByUsername.has(newUsername)) {
        throw usernameTaken();
      }
      const oldEmail = user.email?.toLowerCase() ?? null;
      const newEmail = patch.email === undefined ? oldEmail : (patch.email?.toLowerCase() ?? null);
      if (newEmail !== null && newEmail !== oldEmail && idByEmail.has(newEmail)) throw emailTaken();
      if (demotesActiveAdmin(user, patch)) refuseLastAdmin(countActiveAdmins());

      if (newUsername !== undefined) {
        idByUsername.delete(oldUsername);
        idByUsername.set(newUsername, id);
      }
      if (oldEmail !== null) idByEmail.delete(oldEmail);
      if (newEmail !== null) idByEmail.set(newEmail, id);
      const { metadata, emailVerified, ...rest } = patch;
      Object.assign(user, withoutUndefined(rest));
      if (emailVerified === true && user.email !== null) verifiedEmail.set(id, user.email.toLowerCase());
      if (emailVerified === false) verifiedEmail.delete(id);
      if (metadata !== undefined) user.metadata = structuredClone(metadata);
      user.updatedAt = now();
      return copy(user);
    },

    async deleteUser(id) {
      const user = users.get(id);
      if (!user) return false;
      if (demotesActiveAdmin(user, null)) refuseLastAdmin(countActiveAdmins());
      users.delete(id);
      verifiedEmail.delete(id);
      idByUsername.delete(user.username.toLowerCase());
      if (user.email !== null) idByEmail.delete(user.email.toLowerCase());
      onDelete(id);
      return true;
    },

    async listUsers(query) {
      const q = query.q?.toLowerCase();
      const matching = [...users.values()]
        .filter(
          (u) =>
            (q === undefined ||
              u.username.toLowerCase().includes(q) ||
              (u.email?.toLowerCase().includes(q) ?? false)) &&
            (query.role === undefined || u.role === query.role) &&
            (query.isActive === undefined || u.isActive === query.isActive),
        )
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return { users: matching.slice(query.skip, query.skip + query.limit).map(copy), total: matching.length };
    },

    async addToBalance(id, delta) {
      const user = users.get(id);
      if (!user) return null;
      if (user.yapcoinBalance + delta < 0) throw insufficientBalance();
      user.yapcoinBalance += delta;
      user.updatedAt = now();
      return user.yapcoinBalance;
    },

    async userStats() {
      const stats: UserStats = { total: 0, active: 0, byRole: { admin: 0, regular: 0, guest: 0 } };
      for (const user of users.values()) {
        stats.total += 1;
        if (user.isActive) stats.active += 1;
        stats.byRole[user.role] += 1;
      }
      return stats;
    },

    async countActiveAdmins() {
      return countActiveAdmins();
    },
  };
}

/** Records leave the store as copies, so no caller can change what the next one reads. */
function copyRecord(user: UserRecord): UserRecord {
  return {
    ...user,
    createdAt: new Date(user.createdAt),
    updatedAt: new Date(user.updatedAt),
    metadata: structuredClone(user.metadata),
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
