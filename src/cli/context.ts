/**
 * What commands need first: the service's configuration and its store, opened by
 * the same openStore as the service (src/compose/open-store.ts), and the
 * AuthService wired as the service wires it (createService), so CLI changes get
 * the same validation, errors and side effects as the API, including telling
 * running instances to drop their cached copy of a user. Nothing here builds the
 * HTTP app, purges data or creates the bootstrap admin: that is the running service's.
 */
import type { AuthService } from '../auth/auth-service.js';
import { createService } from '../compose/create-service.js';
import { openStore, type OpenedStore } from '../compose/open-store.js';
import { loadConfig, type Config } from '../config.js';
import type { Mailer } from '../mail/mailer.js';
import { UsageError, type CliIo } from './command.js';

/** loadConfig on the CLI's environment; a ConfigError becomes exit 2 with every problem listed. */
export function loadCliConfig(io: CliIo): Config {
  return loadConfig(io.env);
}

function refuseMemory(config: Config): void {
  if (config.backend === 'memory') {
    throw new UsageError(
      'GATEKEEPER_BACKEND=memory keeps users inside the service process, out of reach of this command; ' +
        'point DATABASE_URL (or POSTGRES_*) at the database instead',
    );
  }
}

/**
 * The configured store as the service opens it (pending migrations applied), with a
 * small pool. An embedded server already running for a service is borrowed, not stopped afterwards.
 */
export function openCommandStore(config: Config): Promise<OpenedStore> {
  refuseMemory(config);
  return openStore(config, { use: 'command' });
}

/** The configured store, opened read-only: no migrations, no cache (health). */
export function openStoreForInspection(config: Config): Promise<OpenedStore> {
  refuseMemory(config);
  return openStore(config, { use: 'inspection' });
}

const MAIL_DRAIN_MS = 10_000;

/** Runs `fn` with the service's AuthService on the configured store, and closes the store after. */
export async function withService<T>(io: CliIo, fn: (service: AuthService) => Promise<T>): Promise<T> {
  const config = loadCliConfig(io);
  const opened = await openCommandStore(config);
  let mailer: Mailer | undefined;
  try {
    const composed = await createService(config, opened.store);
    mailer = composed.mailer;
    return await fn(composed.service);
  } finally {
    // A command may have queued a notice (users mfa-reset): it is sent before the process ends.
    await mailer?.close(MAIL_DRAIN_MS);
    await opened.close();
  }
}
