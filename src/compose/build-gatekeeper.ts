/**
 * What `npm start` runs, short of listening: the store, the service, the jobs a
 * running instance owns (retention purge, bootstrap admin) and the HTTP app.
 * src/main.ts adds listen() and signal handling; tests use it through inject().
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AuthService } from '../auth/auth-service.js';
import type { Config } from '../config.js';
import { buildApp } from '../http/app.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { Store } from '../store/store.js';
import type { Mailer } from '../mail/mailer.js';
import { VERSION } from '../version.js';
import { createService, type ServiceOptions } from './create-service.js';
import { openStore, type OpenedStore } from './open-store.js';

/** A built, not yet listening, Gatekeeper. */
export interface BuiltGatekeeper {
  app: FastifyInstance;
  service: AuthService;
  store: Store;
  /** The Argon2 hasher and its bounded queue (what /metrics reports as gatekeeper_password_hash_jobs). */
  hasher: PasswordHasher;
  location: string;
  /** Outgoing mail; closing the app gives its queue MAIL_DRAIN_MS to empty, then drops the rest. */
  mailer: Mailer;
  /** Closes the app, stops the purge timer and closes the store it opened. */
  close(): Promise<void>;
  /**
   * close() within `timeoutMs` (SIGTERM): no new connections; requests in flight may finish, and
   * requests arriving on open keep-alive connections are answered 503 with `Connection: close`
   * (Fastify's return503OnClosing); idle connections are closed at once. At the HTTP part of the
   * deadline the connections left are closed, so the store (pool, embedded server) still closes
   * in time. Resolves with what was cut, or null when everything finished.
   */
  shutdown(timeoutMs: number): Promise<string | null>;
}

export interface BuildOptions extends Omit<ServiceOptions, 'log'> {
  /** The service's logger; false or absent: silent. */
  logger?: Logger | false;
  /** A store opened by the caller, who also closes it; absent: openStore(config). */
  store?: OpenedStore;
  /** The URL of an embedded server a parent process started (cluster workers). */
  embeddedUrl?: string | null;
}

/** How often a running instance purges expired audit events, login counters and retired keys. */
const PURGE_INTERVAL_MS = 6 * 3_600_000;
/** How long closing waits for queued mails: short, as shutdown has a deadline of its own. */
const MAIL_DRAIN_MS = 2_000;

/**
 * Wires config → store → security → service → HTTP app, and starts the instance's
 * own jobs: the retention purge (now and every few hours) and the bootstrap admin.
 * @example const { app, close } = await buildGatekeeper(loadConfig({ GATEKEEPER_BACKEND: 'memory' }));
 */
export async function buildGatekeeper(config: Config, options: BuildOptions = {}): Promise<BuiltGatekeeper> {
  const log = options.logger || undefined;
  const opened =
    options.store ?? (await openStore(config, { ...(log ? { log } : {}), embeddedUrl: options.embeddedUrl ?? null }));
  let purgeTimer: NodeJS.Timeout | undefined;
  let closeMailer = async (): Promise<void> => {};
  try {
    const { store } = opened;
    const { service, hasher, tokens, mailer } = await createService(config, store, {
      ...(log ? { log } : {}),
      ...(options.hashParams ? { hashParams: options.hashParams } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.keyRefreshSeconds === undefined ? {} : { keyRefreshSeconds: options.keyRefreshSeconds }),
      ...(options.mail ? { mail: options.mail } : {}),
    });
    closeMailer = () => mailer.close(MAIL_DRAIN_MS);
    // Retention holds even if nobody calls POST /auth/cleanup: at start, then every few hours.
    await service.purgeExpired();
    purgeTimer = setInterval(() => {
      service.purgeExpired().catch((err: unknown) => log?.warn({ err }, 'purging expired audit events failed'));
    }, PURGE_INTERVAL_MS);
    purgeTimer.unref();
    if (config.admin) {
      const outcome = await service.ensureAdmin(config.admin);
      if (outcome !== 'exists') log?.info({ username: config.admin.username }, `admin account ${outcome}`);
    }
    const app = await buildApp({
      service,
      hasher,
      version: VERSION,
      logger: options.logger ?? false,
      accessLog: config.accessLog,
      trustProxy: config.trustProxy,
      requestTimeoutSeconds: config.requestTimeoutSeconds,
      requestDeadlineSeconds: config.requestDeadlineSeconds,
      healthTimeoutSeconds: config.healthTimeoutSeconds,
      corsOrigins: config.corsOrigins,
      metricsToken: config.metricsToken,
      listenHost: config.host,
      ...(opened.alive ? { alive: opened.alive } : {}),
      jwks: () => tokens.jwks(),
      mailFigures: () => mailer.figures,
      ui: config.ui.enabled && {
        productName: config.mail.productName,
        logoUrl: config.ui.logoUrl,
        accent: config.ui.accent,
        allowRegistration: config.allowRegistration,
        returnToOrigins: [new URL(config.mail.publicUrl).origin, ...config.ui.returnToOrigins],
      },
    });
    app.addHook('onClose', async () => {
      clearInterval(purgeTimer);
      await closeMailer();
      if (!options.store) await opened.close();
    });
    const inFlight = countRequestsInFlight(app);
    return {
      app,
      service,
      store,
      hasher,
      mailer,
      location: opened.location,
      close: () => app.close(),
      shutdown: (timeoutMs) => closeWithin(app, inFlight, timeoutMs),
    };
  } catch (err) {
    clearInterval(purgeTimer);
    await closeMailer();
    if (!options.store) await opened.close();
    throw err;
  }
}

/** What is left for closing the store (pool, embedded PostgreSQL) out of the shutdown timeout. */
function storeReserveMillis(timeoutMs: number): number {
  return Math.min(timeoutMs / 2, 3_000);
}

/** Requests the HTTP server received and has not finished answering (for the shutdown line). */
function countRequestsInFlight(app: FastifyInstance): () => number {
  let count = 0;
  app.server.on('request', (_request, response: ServerResponse) => {
    count += 1;
    response.once('close', () => (count -= 1));
  });
  return () => count;
}

async function closeWithin(app: FastifyInstance, inFlight: () => number, timeoutMs: number): Promise<string | null> {
  const started = Date.now();
  let cut: string | null = null;
  const closing = app.close();
  const drainMs = timeoutMs - storeReserveMillis(timeoutMs);
  const timer = setTimeout(() => {
    const running = inFlight();
    if (running > 0) {
      cut = `${running} request(s) still running after ${(drainMs / 1000).toFixed(1)} s: their connections were closed`;
    }
    // The onClose hooks (the store) run once the server has closed, which these connections hold up.
    app.server.closeAllConnections();
  }, drainMs);
  try {
    await closing;
  } finally {
    clearTimeout(timer);
  }
  if (cut !== null) return `${cut}; stopped in ${Date.now() - started} ms`;
  return null;
}
