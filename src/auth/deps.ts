/**
 * The service's options and what every use-case area is built from: the store,
 * the security tools, the policy settings and the clock, resolved once so that
 * each area sees the same defaults, throttle and audit trail.
 */
import type { PasswordPolicyName } from '../core/password-policies.js';
import type { Mailer } from '../mail/mailer.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import { DEFAULT_THROTTLE_POLICY, type ThrottlePolicy } from '../security/throttle.js';
import type { AccessTokens } from '../security/tokens.js';
import type { Store } from '../store/store.js';
import { AuditTrail } from './audit-trail.js';
import { LoginThrottle } from './login-throttle.js';
import { RefusalAudit } from './refusal-audit.js';
import { ConflictThrottle, DEFAULT_REGISTER_IP_MAX_CONFLICTS } from './conflict-throttle.js';

/** How the service's logger is called (pino's shape). */
export interface ServiceLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What `new AuthService(options)` takes. */
export interface AuthServiceOptions {
  store: Store;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  passwordPolicy: PasswordPolicyName;
  refreshTokenDays: number;
  allowRegistration: boolean;
  /** Brute-force thresholds; DEFAULT_THROTTLE_POLICY (src/security/throttle.ts) when absent. */
  throttle?: ThrottlePolicy;
  /** Audit events older than this are purged (GATEKEEPER_AUDIT_RETENTION_DAYS, default 90). */
  auditRetentionDays?: number;
  /**
   * USERNAME_TAKEN/EMAIL_TAKEN answers per client address and login window (registration and
   * profile changes) before 429; default 20 (proposed GATEKEEPER_REGISTER_IP_MAX_CONFLICTS).
   */
  registerIpMaxConflicts?: number;
  /** Sends the password reset and notice mails; without one, forgot-password mails nothing. */
  mailer?: Mailer;
  /** How long a password reset link works (GATEKEEPER_RESET_TOKEN_MINUTES); default 30. */
  resetTokenMinutes?: number;
  /** Forgot-password requests per client address and login window before 429; default 10. */
  forgotIpMax?: number;
  /** How long an email verification link and code work (GATEKEEPER_EMAIL_VERIFICATION_MINUTES); default 60. */
  emailVerificationMinutes?: number;
  /** GATEKEEPER_REQUIRE_EMAIL_VERIFICATION; default false. */
  requireEmailVerification?: boolean;
  /** GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS: how long a rotated refresh token still gets the current pair; default 10, 0 = off. */
  refreshReuseGraceSeconds?: number;
  /** GATEKEEPER_SESSION_MAX_DAYS: a session's absolute lifetime from its login; default 30. */
  sessionMaxDays?: number;
  /** GATEKEEPER_NOTIFY_NEW_ADDRESS: mail the user on a login from an address not seen for them; default false. */
  notifyNewAddress?: boolean;
  /**
   * Key material the TOTP secrets are sealed under (GATEKEEPER_SECRET_KEY); absent: a random key
   * generated once and kept in the settings table (src/auth/mfa.ts).
   */
  mfaKeyMaterial?: string | null;
  /** The issuer authenticator apps show for Gatekeeper's TOTP entries (GATEKEEPER_PRODUCT_NAME); default Gatekeeper. */
  mfaIssuer?: string;
  now?: () => Date;
  log?: ServiceLog;
}

/** The options with their defaults applied, plus the throttle and audit trail every area shares. */
export interface UseCaseDeps {
  store: Store;
  hasher: PasswordHasher;
  tokens: AccessTokens;
  passwordPolicy: PasswordPolicyName;
  refreshTokenDays: number;
  /** Seconds; 0: every second presentation of a rotated refresh token is reuse. */
  refreshReuseGraceSeconds: number;
  sessionMaxDays: number;
  allowRegistration: boolean;
  auditRetentionDays: number;
  now: () => Date;
  log: ServiceLog | undefined;
  throttle: LoginThrottle;
  /** Counts the answers that tell whether a username or email exists, per address. */
  conflicts: ConflictThrottle;
  audit: AuditTrail;
  /** Aggregated audit rows of refused attempts; close() writes what it still counts. */
  refusals: RefusalAudit;
}

export const DAY_MS = 86_400_000;

/** Applies the defaults of AuthServiceOptions. */
export function resolveDeps(options: AuthServiceOptions): UseCaseDeps {
  const now = options.now ?? (() => new Date());
  const policy = options.throttle ?? DEFAULT_THROTTLE_POLICY;
  const audit = new AuditTrail(options.store, options.log);
  const refusals = new RefusalAudit(audit, now);
  return {
    store: options.store,
    hasher: options.hasher,
    tokens: options.tokens,
    passwordPolicy: options.passwordPolicy,
    refreshTokenDays: options.refreshTokenDays,
    refreshReuseGraceSeconds: options.refreshReuseGraceSeconds ?? 10,
    sessionMaxDays: options.sessionMaxDays ?? 30,
    allowRegistration: options.allowRegistration,
    auditRetentionDays: options.auditRetentionDays ?? 90,
    now,
    log: options.log,
    throttle: new LoginThrottle(options.store, policy, refusals),
    conflicts: new ConflictThrottle(options.store, {
      windowSeconds: policy.windowSeconds,
      maxConflicts: options.registerIpMaxConflicts ?? DEFAULT_REGISTER_IP_MAX_CONFLICTS,
    }),
    audit,
    refusals,
  };
}
