/** Every kind of line the audit trail holds (GET /auth/audit `event`). */
export const AUDIT_EVENTS = [
  'register',
  'login.success',
  'login.failure',
  'logout',
  'session.revoke',
  'refresh.reuse',
  'password.change',
  'password.reset_request',
  'password.reset',
  'user.update',
  'user.delete',
  'tokens.revoke',
  'key.rotate',
  'user.unlock',
  'reauth.failure',
  'client.create',
  'client.delete',
  'client.rotate_secret',
  'client.auth_failure',
] as const;
export type AuditEventType = (typeof AUDIT_EVENTS)[number];
