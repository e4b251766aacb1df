import type { UserRecord } from '../store/store.js';
import type { UserPublic } from './schemas.js';

/**
 * Wire forms of cached user records. Those are frozen and shared by every request of
 * the user (store/user-state-cache.ts), so their wire form is made once, not per
 * request (two date formats were a visible share of GET /auth/me).
 */
const wireForms = new WeakMap<UserRecord, UserPublic>();

/** The wire form of a user. The password hash never leaves through here. */
export function toUserPublic(user: UserRecord): UserPublic {
  if (!Object.isFrozen(user)) return wireForm(user);
  let form = wireForms.get(user);
  if (form === undefined) {
    form = Object.freeze(wireForm(user));
    wireForms.set(user, form);
  }
  return form;
}

function wireForm(user: UserRecord): UserPublic {
  return {
    id: user.id,
    username: user.username,
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
