import cluster, { type Worker } from 'node:cluster';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { buildGatekeeper, type BuiltGatekeeper as Gatekeeper } from './compose/build-gatekeeper.js';
import { openStore, type OpenedStore } from './compose/open-store.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { GatekeeperError } from './errors.js';
import { operationsAccessWarning } from './http/operations-access.js';
import { createLogger, resolveLogFormat } from './logger.js';
import { VERSION } from './version.js';

/**
 * The service process (`npm start`, `gatekeeper serve`): config → store → app.listen,
 * and a clean stop on SIGINT/SIGTERM. With GATEKEEPER_WORKERS=N the primary process
 * owns the embedded PostgreSQL (if any) and N workers serve HTTP on one shared port;
 * every piece of state is in the database, so workers are interchangeable. Workers
 * re-run the primary's entry (process.argv[1] and its arguments), so they land here again.
 * Exits the process on a bad setting (2) or a failed start (1).
 * @example await main(); // keeps running until SIGINT/SIGTERM
 */
export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(2, err.message);
    throw err;
  }
  const log = createLogger(config.logLevel, resolveLogFormat(config.logFormat, process.stdout.isTTY));
  if (cluster.isWorker) return serveWorker(config, log);
  // Once per service, not per worker.
  const accessWarning = operationsAccessWarning(config.metricsToken, config.host);
  if (accessWarning) log.warn(accessWarning);
  if (config.backend === 'memory') {
    log.warn('GATEKEEPER_BACKEND=memory: users live in process memory and are lost when the process stops.');
    if (config.workers > 1)
      log.warn('GATEKEEPER_WORKERS is ignored with the memory backend: workers could not share users.');
  }
  if (config.workers > 1 && config.backend !== 'memory') return servePrimary(config, log);
  return serveSingle(config, log);
}

async function serveSingle(config: Config, log: Logger): Promise<void> {
  const gatekeeper = await startOrExit(() => buildGatekeeper(config, { logger: log }), log);
  const port = await listenOrExit(gatekeeper, config, log);
  log.info(startLine(config, port, gatekeeper.location));
  log.info(mailLine(config, gatekeeper.mailer.destination));
  onStopSignal(log, config, (timeoutMs) => gatekeeper.shutdown(timeoutMs));
}

/** The primary: opens (and so migrates) the store once, forks the workers, restarts any that die. */
async function servePrimary(config: Config, log: Logger): Promise<void> {
  const opened: OpenedStore = await startOrExit(() => openStore(config, { log }), log);
  const databaseUrl = config.backend === 'embedded' ? embeddedUrlOf(opened) : null;
  let stopping = false;
  const ports = new Map<number, number>();
  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (message: { ready?: boolean; listening?: number; cannotListen?: string }) => {
      // Sent only once the worker listens for the answer: an IPC message with no listener is lost.
      if (message.ready) worker.send({ databaseUrl });
      // Every worker would fail the same way: stop instead of forking new ones forever.
      if (message.cannotListen !== undefined) void stopAll().then(() => fail(1, message.cannotListen!));
      if (typeof message.listening !== 'number') return;
      ports.set(worker.id, message.listening);
      if (ports.size === config.workers) {
        log.info(`${startLine(config, message.listening, opened.location)} ${config.workers} workers.`);
      }
    });
    worker.on('exit', (code) => {
      ports.delete(worker.id);
      if (!stopping) {
        log.error({ code }, 'worker exited; starting a new one');
        fork();
      }
    });
    return worker;
  };
  // One stop, however many workers report a failure or signals arrive: each waits for the same one.
  const timeoutMs = config.shutdownTimeoutSeconds * 1000;
  const stopAll = (): Promise<string | null> => (stopped ??= stopWorkersAndStore());
  let stopped: Promise<string | null> | undefined;
  // Each worker has the same deadline for its own requests; one still alive just past it is killed,
  // so the store (and the embedded server) close in time.
  const stopWorkersAndStore = async (): Promise<string | null> => {
    stopping = true;
    let killed = 0;
    await Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (!worker || worker.isDead()) return resolve();
            const timer = setTimeout(() => {
              killed += 1;
              worker.process.kill('SIGKILL');
            }, timeoutMs - 500);
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            worker.kill('SIGTERM');
          }),
      ),
    );
    await opened.close();
    return killed > 0 ? `${killed} worker(s) did not stop in time and were killed` : null;
  };
  for (let i = 0; i < config.workers; i += 1) fork();
  onStopSignal(log, config, stopAll);
}

async function serveWorker(config: Config, log: Logger): Promise<void> {
  // The primary tells us where the embedded server listens (null: use the configured database).
  const { databaseUrl } = await new Promise<{ databaseUrl: string | null }>((resolve) => {
    process.once('message', (m: { databaseUrl: string | null }) => resolve(m));
    process.send?.({ ready: true });
  });
  const gatekeeper = await startOrExit(() => buildGatekeeper(config, { logger: log, embeddedUrl: databaseUrl }), log);
  let port: number;
  try {
    port = await listen(gatekeeper.app, config);
  } catch (err) {
    // The primary reports it once, stops the other workers and its database, and exits.
    process.send?.({ cannotListen: listenFailure(err, config) });
    await gatekeeper.close().catch(() => undefined);
    process.exit(1);
  }
  process.send?.({ listening: port });
  onStopSignal(log, config, (timeoutMs) => gatekeeper.shutdown(timeoutMs), true);
}

function embeddedUrlOf(opened: OpenedStore): string {
  if (!opened.url) throw new TypeError('the embedded store did not report its URL');
  return opened.url;
}

async function listen(app: Gatekeeper['app'], config: Config): Promise<number> {
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : config.port;
}

/**
 * listen(), or one line naming the address and the fix, exit 1, and everything the start
 * opened closed first: an embedded PostgreSQL left running would be an orphan.
 */
async function listenOrExit(gatekeeper: Gatekeeper, config: Config, log: Logger): Promise<number> {
  try {
    return await listen(gatekeeper.app, config);
  } catch (err) {
    log.debug({ err }, 'listen failed');
    await gatekeeper.close().catch((closeErr: unknown) => log.error({ err: closeErr }, 'error while stopping'));
    fail(1, listenFailure(err, config));
  }
}

/** What a failed listen() means for the person starting Gatekeeper, in one line. */
function listenFailure(err: unknown, config: Config): string {
  const where = `port ${config.port} on ${config.host}`;
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return `${where} is already in use: stop the other process or set PORT`;
    case 'EACCES':
      return `${where} needs privileges this process lacks: set PORT to 1024 or above`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HOST ${config.host} is not an address of this machine: set HOST (127.0.0.1, or 0.0.0.0 for every interface)`;
    default:
      return `cannot listen on ${where}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Where mails go; without a relay, the outbox a newcomer opens to follow a link. */
function mailLine(config: Config, destination: string): string {
  if (config.mail.smtpUrl !== null) return `Mails are sent through ${destination}.`;
  if (config.backend === 'memory') return 'Mails are kept in process memory (no GATEKEEPER_SMTP_URL set).';
  return `Mails are written to ${destination} (no GATEKEEPER_SMTP_URL set): open the .eml files there to follow their links.`;
}

function startLine(config: Config, port: number, location: string): string {
  const hint =
    config.backend === 'embedded'
      ? ' Set DATABASE_URL (or POSTGRES_HOST…) to use your own PostgreSQL server.'
      : config.backend === 'memory'
        ? ' Users are lost on restart: unset GATEKEEPER_BACKEND for persistent storage.'
        : '';
  return `Gatekeeper ${VERSION} listening on http://${config.host}:${port} (docs at /docs); users stored in ${location}.${hint}`;
}

/** Expected start-up failures (database unreachable, bad credentials…) are one line, not a stack trace. */
async function startOrExit<T>(start: () => Promise<T>, log: Logger): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (!(err instanceof GatekeeperError)) log.debug({ err }, 'start-up failure');
    fail(1, `cannot start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * SIGINT/SIGTERM: `stop` within GATEKEEPER_SHUTDOWN_TIMEOUT_SECONDS, one line naming what it cut (if
 * anything), exit 0. Should `stop` itself not finish (it bounds every part it knows of), the process
 * exits 1 at the deadline with a line saying so: nothing may keep a stopping process alive.
 */
function onStopSignal(
  log: Logger,
  config: Config,
  stop: (timeoutMs: number) => Promise<string | null>,
  quiet = false,
): void {
  const timeoutMs = config.shutdownTimeoutSeconds * 1000;
  let stopping = false;
  const handle = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!quiet) log.info(`${signal} received: shutting down (at most ${config.shutdownTimeoutSeconds} s)`);
    const backstop = setTimeout(() => {
      log.error(`shutdown did not finish within ${config.shutdownTimeoutSeconds} s: exiting anyway`);
      process.exit(1);
    }, timeoutMs);
    try {
      const cut = await stop(timeoutMs);
      if (cut !== null) log.warn(`shutdown deadline reached: ${cut}`);
      clearTimeout(backstop);
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void handle('SIGINT'));
  process.on('SIGTERM', () => void handle('SIGTERM'));
}

function fail(code: number, message: string): never {
  process.stderr.write(`gatekeeper: ${message}\n`);
  process.exit(code);
}

/**
 * Whether this module is the process entry (`node dist/main.js`, as npm start
 * runs it), compared by real path so a symlinked checkout still matches. Imported
 * (by `gatekeeper serve`, a test, a library user), it starts nothing.
 */
function isProcessEntry(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProcessEntry()) void main();
