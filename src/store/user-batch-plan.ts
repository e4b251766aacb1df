/**
 * Decides, for one batch of users being copied into a store, which are new
 * (insert), which already exist (skip, or update with --on-conflict update) and
 * which cannot be written at all, before anything is written. Pure: the PostgreSQL
 * bulk writer and the JSON Lines target feed it the existing users that matter and
 * carry out the plan, so both targets follow exactly the same rules:
 *
 * - a user exists when its id or its username (any case) is already there;
 * - one whose id and username belong to two different existing users fails;
 * - an email (any case) already held by a different user fails;
 * - a user that repeats an id, username or email of an earlier one in the same
 *   batch fails (the source itself is inconsistent).
 */
import type { UserRecord } from './store.js';

export type OnConflict = 'skip' | 'update';

/** What is needed of an existing user to match against it. */
export interface ExistingUser {
  id: string;
  username: string;
  email: string | null;
}

export interface PlannedFailure {
  user: UserRecord;
  reason: string;
}

export interface BatchPlan {
  inserts: UserRecord[];
  /** The user's data goes onto the existing row `targetId` (its id stays: sessions point at it). */
  updates: { targetId: string; user: UserRecord }[];
  skipped: UserRecord[];
  failures: PlannedFailure[];
}

const key = (text: string) => text.toLowerCase();

/**
 * @param existing every stored user whose id, username or email matches one in `users` (more is harmless)
 * @example const plan = planUserBatch(batch, await findExisting(batch), 'skip');
 */
export function planUserBatch(users: UserRecord[], existing: ExistingUser[], onConflict: OnConflict): BatchPlan {
  const byId = new Map(existing.map((e) => [e.id.toLowerCase(), e]));
  const byName = new Map(existing.map((e) => [key(e.username), e]));
  const byEmail = new Map(existing.filter((e) => e.email !== null).map((e) => [key(e.email ?? ''), e]));
  const seen = { ids: new Set<string>(), names: new Set<string>(), emails: new Set<string>() };
  const plan: BatchPlan = { inserts: [], updates: [], skipped: [], failures: [] };
  const fail = (user: UserRecord, reason: string) => plan.failures.push({ user, reason });

  for (const user of users) {
    const id = user.id.toLowerCase();
    const name = key(user.username);
    const email = user.email === null ? null : key(user.email);
    if (seen.ids.has(id) || seen.names.has(name) || (email !== null && seen.emails.has(email))) {
      fail(user, 'repeats the id, username or email of another user of the same batch in the source');
      continue;
    }
    seen.ids.add(id);
    seen.names.add(name);
    if (email !== null) seen.emails.add(email);

    const sameId = byId.get(id);
    const sameName = byName.get(name);
    if (sameId && sameName && sameId.id !== sameName.id) {
      fail(user, 'its id and its username belong to two different existing users');
      continue;
    }
    const match = sameId ?? sameName;
    if (match && onConflict === 'skip') {
      plan.skipped.push(user);
      continue;
    }
    const emailOwner = email === null ? undefined : byEmail.get(email);
    if (emailOwner && emailOwner.id !== match?.id) {
      fail(user, 'its email address already belongs to another user');
      continue;
    }
    if (match) plan.updates.push({ targetId: match.id, user });
    else plan.inserts.push(user);
  }
  return plan;
}
