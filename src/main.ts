import { ConfigError, loadConfig } from './config.js';
import { GatekeeperError } from './errors.js';
import { createGatekeeper } from './gatekeeper.js';
import { createLogger } from './logger.js';
import { VERSION } from './version.js';

/** `npm start`: config → store → app.listen, and a clean stop on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gatekeeper: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  if (config.backend === 'memory') {
    log.warn('GATEKEEPER_BACKEND=memory: users live in process memory and are lost when the process stops.');
  }
  let gatekeeper;
  try {
    gatekeeper = await createGatekeeper(config, { logger: log });
  } catch (err) {
    // Expected start-up failures (database unreachable, bad credentials…) are one line, not a stack trace.
    const message = err instanceof GatekeeperError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`gatekeeper: cannot start: ${message}\n`);
    if (!(err instanceof GatekeeperError)) log.debug({ err }, 'start-up failure');
    process.exit(1);
  }
  const { app, location } = gatekeeper;
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const hint =
    config.backend === 'embedded'
      ? ' Set DATABASE_URL (or POSTGRES_HOST…) to use your own PostgreSQL server.'
      : config.backend === 'memory'
        ? ' Users are lost on restart: unset GATEKEEPER_BACKEND for persistent storage.'
        : '';
  log.info(
    `Gatekeeper ${VERSION} listening on http://${config.host}:${port} (docs at /docs); users stored in ${location}.${hint}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: shutting down`);
    try {
      await app.close();
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

void main();
