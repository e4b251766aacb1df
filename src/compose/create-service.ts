/**
 * The service without its process: security (hasher, signing keys, tokens) and
 * AuthService on an open store. No HTTP, no timers, no bootstrap admin, no purge:
 * what a one-shot command needs, and what buildGatekeeper builds the running
 * service on.
 */
import type { Logger } from 'pino';
import { AuthService } from '../auth/auth-service.js';
import { KeyRing } from '../auth/key-ring.js';
import type { Config } from '../config.js';
import { PasswordHasher, type Argon2Params } from '../security/password-hasher.js';
import { AccessTokens, hs256Keys, newSecret, type SigningKeys } from '../security/tokens.js';
import type { Store } from '../store/store.js';
import type { Mailer, MailerOptions } from '../mail/mailer.js';
import { createMailer } from './create-mailer.js';

export interface ServiceOptions {
  log?: Logger;
  /** Argon2id parameters instead of the security level's (tests use cheap ones). */
  hashParams?: Argon2Params;
  /** The clock of the service and its key ring (tests move it instead of sleeping). */
  now?: () => Date;
  /** Seconds between reloads of asymmetric signing keys from the store; default 60. */
  keyRefreshSeconds?: number;
  /** Mailer settings beyond the configuration's (tests: short retry delays). */
  mail?: Partial<MailerOptions>;
}

/** The wired service and the parts the HTTP app shows (hash queue metrics, the JWKS). */
export interface ComposedService {
  service: AuthService;
  /** The Argon2 hasher and its bounded queue (what /metrics reports as gatekeeper_password_hash_jobs). */
  hasher: PasswordHasher;
  tokens: AccessTokens;
  /** Outgoing mail (queued; see src/mail/mailer.ts). Its owner closes it. */
  mailer: Mailer;
}

/**
 * Wires security and AuthService on `store`. The store stays the caller's: it
 * closes it (nothing here holds a timer or a connection of its own).
 * @example const { service } = await createService(config, opened.store);
 */
export async function createService(
  config: Config,
  store: Store,
  options: ServiceOptions = {},
): Promise<ComposedService> {
  const log = options.log;
  const keys = await openSigningKeys(config, store, options);
  const tokens = new AccessTokens(keys, {
    accessTokenMinutes: config.accessTokenExpireMinutes,
    issuer: config.issuer,
    audience: config.audience,
  });
  const hasher = new PasswordHasher({
    level: config.passwordSecurityLevel,
    concurrency: config.hashConcurrency,
    maxQueued: config.hashQueueMax,
    ...(options.hashParams ? { params: options.hashParams } : {}),
  });
  // Made first: the service queues the password reset mails on it.
  const mailer = createMailer(config, { ...(log ? { log } : {}), ...options.mail });
  const service = new AuthService({
    store,
    hasher,
    tokens,
    passwordPolicy: config.passwordPolicy,
    refreshTokenDays: config.refreshTokenExpireDays,
    allowRegistration: config.allowRegistration,
    throttle: {
      windowSeconds: config.loginWindowSeconds,
      accountMaxFailures: config.loginAccountMaxFailures,
      ipMaxFailures: config.loginIpMaxFailures,
    },
    registerIpMaxConflicts: config.registerIpMaxConflicts,
    auditRetentionDays: config.auditRetentionDays,
    mailer,
    resetTokenMinutes: config.resetTokenMinutes,
    forgotIpMax: config.forgotIpMax,
    emailVerificationMinutes: config.emailVerificationMinutes,
    requireEmailVerification: config.requireEmailVerification,
    refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
    sessionMaxDays: config.sessionMaxDays,
    notifyNewAddress: config.notifyNewAddress,
    mfaKeyMaterial: config.secretKey,
    mfaIssuer: config.mail.productName,
    ...(options.now ? { now: options.now } : {}),
    ...(log ? { log } : {}),
  });
  return { service, hasher, tokens, mailer };
}

/**
 * HS256 signs with one shared secret; EdDSA, ES256 and RS256 with a key ring kept
 * in the store (created on first start, rotated by `gatekeeper keys rotate`).
 */
async function openSigningKeys(config: Config, store: Store, options: ServiceOptions): Promise<SigningKeys> {
  const log = options.log;
  if (config.jwtAlgorithm === 'HS256') return hs256Keys(config.secretKey ?? (await storedSecret(store, log)));
  return KeyRing.open({
    store,
    algorithm: config.jwtAlgorithm,
    accessTokenSeconds: config.accessTokenExpireMinutes * 60,
    ...(options.keyRefreshSeconds === undefined ? {} : { refreshSeconds: options.keyRefreshSeconds }),
    ...(options.now ? { now: options.now } : {}),
    ...(log ? { log } : {}),
  });
}

/**
 * With no GATEKEEPER_SECRET_KEY, one random secret is generated and kept in the
 * database, so every instance and every restart signs with the same key.
 */
async function storedSecret(store: Store, log: Logger | undefined): Promise<string> {
  const secret = await store.putSettingIfAbsent('jwt_hs256_secret', newSecret());
  log?.warn(
    'GATEKEEPER_SECRET_KEY is not set: using a signing secret generated once and stored in the database. Set GATEKEEPER_SECRET_KEY (32+ characters) in production.',
  );
  return secret;
}
