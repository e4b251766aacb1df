/** Who a user is to Gatekeeper: admin > regular > guest (docs/API.md, UserPublic). */
export const ROLES = ['admin', 'regular', 'guest'] as const;
export type Role = (typeof ROLES)[number];

/** `role` when it is one of ROLES; a TypeError at setup otherwise (a typo in a route guard). */
export function knownRole(role: unknown): Role {
  const known = typeof role === 'string' ? parseRole(role) : null;
  if (known === null) throw new TypeError(`unknown role ${String(role)}; one of ${ROLES.join(', ')}`);
  return known;
}

/** admin > regular > guest (docs/API.md): a higher rank may do what a lower one may. */
const RANK: Record<Role, number> = { admin: 3, regular: 2, guest: 1 };

/** True when `role` is `minimum` or ranks above it. */
export function hasRole(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** The role named by `text`, or null when it is not one of ROLES. */
export function parseRole(text: string): Role | null {
  return ROLES.find((role) => role === text) ?? null;
}

/** A user's free-form JSON object (`metadata` on the wire). */
export type Metadata = Record<string, unknown>;
