import type { UserRecord } from '../store/store.js';
import type { UserPublic } from './schemas.js';

/** The wire form of a user. The password hash never leaves through here. */
export function toUserPublic(user: UserRecord): UserPublic {
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
