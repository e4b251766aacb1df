/** Who a user is to Gatekeeper: admin > regular > guest (docs/API.md, UserPublic). */
export const ROLES = ['admin', 'regular', 'guest'] as const;
export type Role = (typeof ROLES)[number];

/** The role named by `text`, or null when it is not one of ROLES. */
export function parseRole(text: string): Role | null {
  return ROLES.find((role) => role === text) ?? null;
}

/** A user's free-form JSON object (`metadata` on the wire). */
export type Metadata = Record<string, unknown>;
