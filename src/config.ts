/**
 * The only module that reads the environment. `loadConfig(env)` reads every
 * variable (listed in README.md), collects all problems, throws one ConfigError listing
 * them (never echoing a secret), and returns a deep-frozen typed Config.
 */
import os from 'node:os';
import path from 'node:path';
import { JWT_ALGORITHMS, type JwtAlgorithm } from './core/algorithms.js';
import { PASSWORD_POLICIES, type PasswordPolicyName } from './core/password-policies.js';
import { SECURITY_LEVEL_NAMES, type SecurityLevel } from './core/security-levels.js';
import type { TrustProxy } from './core/client-address.js';
import { readDatabase } from './config/database.js';
import { readTrustProxy } from './config/trust-proxy.js';
import { createReader, show, type Env, type Reader } from './config/env-reader.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormatSetting, type LogLevel } from './logger.js';
import type { DatabaseConfig, SslMode } from './store/postgres/database-config.js';
import { redactSmtpUrl } from './mail/redact.js';

export type { DatabaseConfig, SslMode, TrustProxy };
export { describeDatabaseTarget, redactUrl, type DatabaseTarget } from './config/database.js';

export type BackendSetting = 'auto' | 'postgres' | 'embedded' | 'memory';
export type Backend = 'postgres' | 'embedded' | 'memory';

export interface AdminBootstrap {
  username: string;
  password: string;
  email: string | null;
}

export interface Config {
  /** Resolved: `auto` becomes `postgres` when `database.explicit`, else `embedded`. */
  backend: Backend;
  dataDir: string;
  database: DatabaseConfig;
  host: string;
  port: number;
  secretKey: string | null;
  jwtAlgorithm: JwtAlgorithm;
  accessTokenExpireMinutes: number;
  refreshTokenExpireDays: number;
  issuer: string | null;
  audience: string | null;
  passwordSecurityLevel: SecurityLevel;
  passwordPolicy: PasswordPolicyName;
  allowRegistration: boolean;
  loginWindowSeconds: number;
  loginAccountMaxFailures: number;
  loginIpMaxFailures: number;
  /** GATEKEEPER_REGISTER_IP_MAX_CONFLICTS: "name/email taken" answers per address in the login window before 429. */
  registerIpMaxConflicts: number;
  /**
   * GATEKEEPER_TRUST_PROXY: false (the socket address is the client), a number of proxy hops
   * (`true` reads as 1), or trusted proxy addresses/CIDRs.
   */
  trustProxy: TrustProxy;
  admin: AdminBootstrap | null;
  logLevel: LogLevel;
  /** LOG_FORMAT: `auto` (default: one readable line per entry on a terminal, JSON lines otherwise), `json`, `text`. */
  logFormat: LogFormatSetting;
  /** GATEKEEPER_ACCESS_LOG: one log line per HTTP request (method, path, status, time), default off. */
  accessLog: boolean;
  /** Argon2 jobs running at once (GATEKEEPER_HASH_CONCURRENCY, default: number of cores). */
  hashConcurrency: number;
  /** Argon2 jobs waiting at most before 503 (GATEKEEPER_HASH_QUEUE_MAX, default 64). */
  hashQueueMax: number;
  /** GATEKEEPER_CORS_ORIGINS, comma-separated; empty = CORS off. */
  corsOrigins: string[];
  /** GATEKEEPER_AUDIT_RETENTION_DAYS, default 90. */
  auditRetentionDays: number;
  /** GATEKEEPER_RESET_TOKEN_MINUTES, default 30: how long a password reset link works. */
  resetTokenMinutes: number;
  /** GATEKEEPER_FORGOT_IP_MAX_REQUESTS, default 10: forgot-password requests per client address and login window before 429. */
  forgotIpMax: number;
  /** GATEKEEPER_EMAIL_VERIFICATION_MINUTES, default 60: how long an email verification link and code work. */
  emailVerificationMinutes: number;
  /**
   * GATEKEEPER_REQUIRE_EMAIL_VERIFICATION, default false: a correct login of an account whose email is
   * unconfirmed answers 403 EMAIL_NOT_VERIFIED, self-registration needs an email, and an email change
   * takes effect only once the new address is confirmed.
   */
  requireEmailVerification: boolean;
  /**
   * GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS, default 10 (0 = off): a rotated refresh token presented
   * again this soon after its rotation gets the session's current pair instead of ending it.
   */
  refreshReuseGraceSeconds: number;
  /** GATEKEEPER_SESSION_MAX_DAYS, default 30: a session ends this long after its login, however often refreshed. */
  sessionMaxDays: number;
  /** GATEKEEPER_NOTIFY_NEW_ADDRESS, default false: mail the user on a login from an address none of their sessions had. */
  notifyNewAddress: boolean;
  /** GATEKEEPER_REQUEST_TIMEOUT_SECONDS, default 30. */
  requestTimeoutSeconds: number;
  /**
   * GATEKEEPER_REQUEST_DEADLINE_SECONDS, default 10: the longest a request is handled; past it the answer
   * is 503 with Retry-After, and every database wait of the request is bounded by what is left of it.
   */
  requestDeadlineSeconds: number;
  /** GATEKEEPER_HEALTH_TIMEOUT_SECONDS, default 2: /health reports the database unreachable past this. */
  healthTimeoutSeconds: number;
  /** GATEKEEPER_SHUTDOWN_TIMEOUT_SECONDS, default 10: SIGTERM's bound on finishing in-flight requests and closing. */
  shutdownTimeoutSeconds: number;
  /** GATEKEEPER_WORKERS: HTTP worker processes sharing the port (node:cluster), default 1. */
  workers: number;
  /**
   * GATEKEEPER_METRICS_TOKEN: the bearer token /metrics and /health's database part require;
   * null: served on a loopback HOST only. A secret: never shown in a message.
   */
  metricsToken: string | null;
  /** GATEKEEPER_USER_CACHE_SECONDS: per-process cache of session/user state (PostgreSQL only), 0 = off; default 10. */
  userCacheSeconds: number;
  mail: MailConfig;
  ui: UiConfig;
}

/** The pages for people (README "Pages"). */
export interface UiConfig {
  /** GATEKEEPER_UI, default true: /login, /account, /admin and the rest; false: none of them. */
  enabled: boolean;
  /** GATEKEEPER_UI_LOGO_URL: an https URL or a path on this host; null: the product name alone. */
  logoUrl: string | null;
  /** GATEKEEPER_UI_ACCENT: the accent colour, #rgb or #rrggbb; default #2952cc. */
  accent: string;
  /** GATEKEEPER_RETURN_TO_ORIGINS: origins besides Gatekeeper's own that `return_to` may lead to. */
  returnToOrigins: string[];
}

/** Outgoing mail (README "Mail"). */
export interface MailConfig {
  /** GATEKEEPER_SMTP_URL: `smtp://` (STARTTLS when offered) or `smtps://`; null: the outbox. A secret (its password). */
  smtpUrl: string | null;
  /** GATEKEEPER_SMTP_CA_FILE: PEM CA certificates to trust for the relay, besides the system's. */
  smtpCaFile: string | null;
  /** GATEKEEPER_MAIL_FROM, default `Gatekeeper <no-reply@localhost>`. */
  from: string;
  /** GATEKEEPER_PUBLIC_URL: the base of every link; required with SMTP, else http://localhost:PORT. */
  publicUrl: string;
  /** GATEKEEPER_PRODUCT_NAME, default Gatekeeper. */
  productName: string;
  /** GATEKEEPER_MAIL_TEMPLATES_DIR: an operator's templates overriding the built-in ones. */
  templatesDir: string | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const BACKENDS: readonly BackendSetting[] = ['auto', 'postgres', 'embedded', 'memory'];
const MIN_SECRET_KEY_LENGTH = 32;
/** A metrics token is a password for scrapers: short ones can be guessed. */
const MIN_METRICS_TOKEN_LENGTH = 16;

function readAdmin(read: Reader, problems: string[]): AdminBootstrap | null {
  const username = read.raw('GATEKEEPER_ADMIN_USERNAME');
  const password = read.raw('GATEKEEPER_ADMIN_PASSWORD');
  const email = read.raw('GATEKEEPER_ADMIN_EMAIL') ?? null;
  if (username !== undefined && password !== undefined) return { username, password, email };
  if (username !== undefined) {
    problems.push(
      `GATEKEEPER_ADMIN_PASSWORD must be set when GATEKEEPER_ADMIN_USERNAME is (got username ${show(username)})`,
    );
  } else if (password !== undefined) {
    problems.push('GATEKEEPER_ADMIN_USERNAME must be set when GATEKEEPER_ADMIN_PASSWORD is (password not shown)');
  } else if (email !== null) {
    // An email alone would silently create no admin; the operator almost certainly forgot something.
    problems.push(
      `GATEKEEPER_ADMIN_EMAIL needs GATEKEEPER_ADMIN_USERNAME and GATEKEEPER_ADMIN_PASSWORD (got email ${show(email)})`,
    );
  }
  return null;
}

/** Browsers send `scheme://host[:port]` in Origin, so entries are normalised to exactly that form. */
function readCorsOrigins(read: Reader, problems: string[]): string[] {
  return readOrigins(read, problems, 'GATEKEEPER_CORS_ORIGINS', true);
}

function readOrigins(read: Reader, problems: string[], name: string, allowAny: boolean): string[] {
  const entries = (read.raw(name) ?? '').split(',').map((o) => o.trim());
  return entries.flatMap((entry) => {
    if (entry === '') return [];
    if (entry === '*' && allowAny) return ['*'];
    try {
      const url = new URL(entry);
      const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
      if ((url.protocol === 'http:' || url.protocol === 'https:') && bare) return [url.origin];
    } catch {
      // Falls through to the problem below.
    }
    const expected = allowAny ? '* or an origin' : 'an origin';
    problems.push(`${name} entries must be ${expected} like https://app.example.com (got ${show(entry)})`);
    return [];
  });
}

const ACCENT = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

function readUi(read: Reader, problems: string[]): UiConfig {
  const logoUrl = read.raw('GATEKEEPER_UI_LOGO_URL') ?? null;
  if (logoUrl !== null && !isLogoUrl(logoUrl)) {
    problems.push(`GATEKEEPER_UI_LOGO_URL must be an https URL or a path like /static/logo.svg (got ${show(logoUrl)})`);
  }
  const accent = read.raw('GATEKEEPER_UI_ACCENT') ?? '#2952cc';
  if (!ACCENT.test(accent)) problems.push(`GATEKEEPER_UI_ACCENT must be a colour like #2952cc (got ${show(accent)})`);
  return {
    enabled: read.bool('GATEKEEPER_UI', true),
    logoUrl,
    accent,
    returnToOrigins: readOrigins(read, problems, 'GATEKEEPER_RETURN_TO_ORIGINS', false),
  };
}

/** The page's CSP names the logo's origin as its one image source besides Gatekeeper: https only. */
function isLogoUrl(value: string): boolean {
  if (value.startsWith('/') && !value.startsWith('//')) return !/[\s"'<>\\]/.test(value);
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && !url.username && !url.password;
  } catch {
    return false;
  }
}

function readMail(read: Reader, problems: string[], port: number): MailConfig {
  const smtpUrl = read.raw('GATEKEEPER_SMTP_URL') ?? null;
  if (smtpUrl !== null) {
    let protocol = '';
    try {
      protocol = new URL(smtpUrl).protocol;
    } catch {
      // Falls through to the problem below.
    }
    if (protocol !== 'smtp:' && protocol !== 'smtps:') {
      problems.push(
        `GATEKEEPER_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://… (got ${show(redactSmtpUrl(smtpUrl))})`,
      );
    }
  }
  const publicUrl = read.raw('GATEKEEPER_PUBLIC_URL');
  if (publicUrl === undefined && smtpUrl !== null) {
    problems.push(
      'GATEKEEPER_PUBLIC_URL must be set when GATEKEEPER_SMTP_URL is: it is the base of every link in a mail',
    );
  }
  if (publicUrl !== undefined) {
    let ok = false;
    try {
      const url = new URL(publicUrl);
      ok = (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
    } catch {
      // Falls through to the problem below.
    }
    if (!ok)
      problems.push(
        `GATEKEEPER_PUBLIC_URL must be an http(s) URL like https://id.example.com (got ${show(publicUrl)})`,
      );
  }
  const templatesDir = read.raw('GATEKEEPER_MAIL_TEMPLATES_DIR');
  const caFile = read.raw('GATEKEEPER_SMTP_CA_FILE');
  return {
    smtpUrl,
    smtpCaFile: caFile === undefined ? null : path.resolve(caFile),
    from: read.raw('GATEKEEPER_MAIL_FROM') ?? 'Gatekeeper <no-reply@localhost>',
    publicUrl: publicUrl ?? `http://localhost:${port}`,
    productName: read.raw('GATEKEEPER_PRODUCT_NAME') ?? 'Gatekeeper',
    templatesDir: templatesDir === undefined ? null : path.resolve(templatesDir),
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Reads and validates the whole configuration (every variable is listed in README.md).
 * Only `main.ts` and `cli/` call this; library users pass options instead.
 * @throws ConfigError listing every problem at once, one line each, without secret values.
 * @example const config = loadConfig({ PORT: '0', GATEKEEPER_BACKEND: 'memory' });
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = createReader(env, problems);

  const database = readDatabase(read, problems);
  const backendSetting = read.oneOf('GATEKEEPER_BACKEND', BACKENDS, 'auto');
  const secretKey = read.raw('GATEKEEPER_SECRET_KEY') ?? null;
  if (secretKey !== null && secretKey.length < MIN_SECRET_KEY_LENGTH) {
    const length = `it has ${secretKey.length}; value not shown`;
    problems.push(`GATEKEEPER_SECRET_KEY must be at least ${MIN_SECRET_KEY_LENGTH} characters (${length})`);
  }

  const metricsToken = read.raw('GATEKEEPER_METRICS_TOKEN') ?? null;
  if (metricsToken !== null && (metricsToken.length < MIN_METRICS_TOKEN_LENGTH || /\s/.test(metricsToken))) {
    const length = `it has ${metricsToken.length}; value not shown`;
    problems.push(
      `GATEKEEPER_METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters without spaces (${length})`,
    );
  }

  // 0 lets the OS pick a free port, which tests and parallel local runs rely on.
  const port = read.whole('PORT', 8000, 0, 65535);
  const config: Config = {
    backend: backendSetting === 'auto' ? (database.explicit ? 'postgres' : 'embedded') : backendSetting,
    dataDir: path.resolve(read.raw('GATEKEEPER_DATA_DIR') ?? './data'),
    database,
    host: read.raw('HOST') ?? '127.0.0.1',
    port,
    secretKey,
    jwtAlgorithm: read.oneOf('GATEKEEPER_JWT_ALGORITHM', JWT_ALGORITHMS, 'HS256'),
    accessTokenExpireMinutes: read.whole('GATEKEEPER_ACCESS_TOKEN_EXPIRE_MINUTES', 30, 1),
    refreshTokenExpireDays: read.whole('GATEKEEPER_REFRESH_TOKEN_EXPIRE_DAYS', 7, 1),
    issuer: read.raw('GATEKEEPER_ISSUER') ?? null,
    audience: read.raw('GATEKEEPER_AUDIENCE') ?? null,
    passwordSecurityLevel: read.oneOf('GATEKEEPER_PASSWORD_SECURITY_LEVEL', SECURITY_LEVEL_NAMES, 'MEDIUM', true),
    passwordPolicy: read.oneOf('GATEKEEPER_PASSWORD_POLICY', PASSWORD_POLICIES, 'reynard'),
    allowRegistration: read.bool('GATEKEEPER_ALLOW_REGISTRATION', true),
    loginWindowSeconds: read.whole('GATEKEEPER_LOGIN_WINDOW_SECONDS', 900, 1),
    loginAccountMaxFailures: read.whole('GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES', 5, 1),
    loginIpMaxFailures: read.whole('GATEKEEPER_LOGIN_IP_MAX_FAILURES', 50, 1),
    registerIpMaxConflicts: read.whole('GATEKEEPER_REGISTER_IP_MAX_CONFLICTS', 20, 1),
    trustProxy: readTrustProxy(read, problems),
    admin: readAdmin(read, problems),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: read.oneOf('LOG_FORMAT', LOG_FORMATS, 'auto'),
    accessLog: read.bool('GATEKEEPER_ACCESS_LOG', false),
    hashConcurrency: read.whole('GATEKEEPER_HASH_CONCURRENCY', os.availableParallelism(), 1),
    hashQueueMax: read.whole('GATEKEEPER_HASH_QUEUE_MAX', 64, 0),
    corsOrigins: readCorsOrigins(read, problems),
    auditRetentionDays: read.whole('GATEKEEPER_AUDIT_RETENTION_DAYS', 90, 1),
    resetTokenMinutes: read.whole('GATEKEEPER_RESET_TOKEN_MINUTES', 30, 1),
    forgotIpMax: read.whole('GATEKEEPER_FORGOT_IP_MAX_REQUESTS', 10, 1),
    emailVerificationMinutes: read.whole('GATEKEEPER_EMAIL_VERIFICATION_MINUTES', 60, 1, 10_080),
    requireEmailVerification: read.bool('GATEKEEPER_REQUIRE_EMAIL_VERIFICATION', false),
    // Past a few minutes a "grace" window is no longer about two tabs refreshing at once.
    refreshReuseGraceSeconds: read.whole('GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS', 10, 0, 300),
    sessionMaxDays: read.whole('GATEKEEPER_SESSION_MAX_DAYS', 30, 1, 3650),
    notifyNewAddress: read.bool('GATEKEEPER_NOTIFY_NEW_ADDRESS', false),
    requestTimeoutSeconds: read.positive('GATEKEEPER_REQUEST_TIMEOUT_SECONDS', 30),
    requestDeadlineSeconds: read.positive('GATEKEEPER_REQUEST_DEADLINE_SECONDS', 10),
    healthTimeoutSeconds: read.positive('GATEKEEPER_HEALTH_TIMEOUT_SECONDS', 2),
    shutdownTimeoutSeconds: read.positive('GATEKEEPER_SHUTDOWN_TIMEOUT_SECONDS', 10),
    workers: read.whole('GATEKEEPER_WORKERS', 1, 1, 256),
    userCacheSeconds: read.whole('GATEKEEPER_USER_CACHE_SECONDS', 10, 0, 3600),
    metricsToken,
    mail: readMail(read, problems, port),
    ui: readUi(read, problems),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}
