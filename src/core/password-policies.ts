/** Password rules (docs/API.md, "Validation rules"): `reynard` (composition, the default) or `nist` (length + common list). */
export const PASSWORD_POLICIES = ['reynard', 'nist'] as const;
export type PasswordPolicyName = (typeof PASSWORD_POLICIES)[number];
