/** Argon2id cost levels, as in the Reynard original (their parameters: security/password-hasher.ts). */
export const SECURITY_LEVEL_NAMES = ['LOW', 'MEDIUM', 'HIGH', 'PARANOID'] as const;
export type SecurityLevel = (typeof SECURITY_LEVEL_NAMES)[number];
