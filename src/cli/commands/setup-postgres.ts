/**
 * `gatekeeper setup-postgres`: the seed's setup script. Prepares the database the
 * service is configured for (DATABASE_URL / POSTGRES_*): role, database owned by
 * the role, tables; and tests the connection as the service would. Idempotent: a
 * second run changes nothing and says so, step by step. No password is ever printed.
 */
import { describeDatabaseTarget, type Config } from '../../config.js';
import { connectionTarget } from '../../store/postgres/pool.js';
import {
  ensureDatabase,
  ensureRole,
  ensureSchemaAccess,
  withAdminConnection,
  type ServiceAccount,
  type StepResult,
} from '../../store/postgres/provision.js';
import { createTables } from '../../store/postgres/service-connection.js';
import { EXIT_OK, UsageError, stringOption, type CliIo, type Command } from '../command.js';
import { loadCliConfig } from '../context.js';
import { defaultAdminUrl, settingsFromUrl, withDatabase } from '../url-settings.js';
import { runConnectionTest } from './connection-test.js';

const STEP_FLAGS = ['create-role', 'create-db', 'create-tables', 'all', 'test'] as const;

export const setupPostgresCommand: Command = {
  name: 'setup-postgres',
  summary: 'create the role, database and tables; test the connection',
  help: [
    'Usage: gatekeeper setup-postgres [--create-role] [--create-db] [--create-tables] [--all] [--test] [--admin-url URL]',
    '',
    'Prepares the PostgreSQL database the service is configured for (DATABASE_URL or',
    'POSTGRES_HOST/PORT/USER/PASSWORD/DB). Safe to run again: it only changes what is missing.',
    '',
    '  --create-role    create the role POSTGRES_USER with POSTGRES_PASSWORD (or fix its password/LOGIN)',
    '  --create-db      create the database POSTGRES_DB owned by that role (or make the role its owner:',
    '                   PostgreSQL 15+ lets only the owner create tables in schema public)',
    '  --create-tables  apply the schema migrations as the service role',
    '  --all            all three, in that order',
    '  --test           connect as the service would; print server version, SSL, latency,',
    '                   schema state and user count; exit 1 with the cause when it fails',
    '  --admin-url URL  the admin connection for --create-role/--create-db (or POSTGRES_ADMIN_URL);',
    '                   default: user postgres, database postgres on the configured server',
    '                   (over the local socket when there is one)',
  ].join('\n'),
  options: {
    'create-role': { type: 'boolean' },
    'create-db': { type: 'boolean' },
    'create-tables': { type: 'boolean' },
    all: { type: 'boolean' },
    test: { type: 'boolean' },
    'admin-url': { type: 'string' },
  },
  async run(args, io) {
    const flag = (name: (typeof STEP_FLAGS)[number]) =>
      args.values[name] === true || (name !== 'test' && args.values.all === true);
    if (!STEP_FLAGS.some((name) => args.values[name] === true)) {
      throw new UsageError(`choose what to do: ${STEP_FLAGS.map((f) => `--${f}`).join(', ')}`, ['setup-postgres']);
    }
    const config = loadCliConfig(io);
    const db = config.database;
    const account: ServiceAccount = { role: db.user, password: db.password, database: db.database };
    io.out(`target: ${describeDatabaseTarget(connectionTarget(db.url))}`);
    warnIfServiceUsesAnotherStore(config, io);

    const results: StepResult[] = [];
    const report = (result: StepResult | null) => {
      if (!result) return;
      results.push(result);
      io.out(result.message);
    };
    if (flag('create-role') || flag('create-db')) {
      // An empty POSTGRES_ADMIN_URL counts as unset, as empty variables do for the service.
      const adminUrl = stringOption(args, 'admin-url') ?? (io.env.POSTGRES_ADMIN_URL || defaultAdminUrl(db));
      const admin = settingsFromUrl(adminUrl, '--admin-url');
      // The default admin connection follows the service's TLS settings; an explicit URL says its own.
      const adminSettings =
        adminUrl === defaultAdminUrl(db) ? { ...admin, sslMode: db.sslMode, sslRootCert: db.sslRootCert } : admin;
      io.out(`admin connection: ${describeDatabaseTarget(connectionTarget(adminUrl))}`);
      await withAdminConnection(adminSettings, async (client) => {
        if (flag('create-role')) report(await ensureRole(client, account));
        if (flag('create-db')) report(await ensureDatabase(client, account));
      });
      if (flag('create-db')) {
        const inDatabase = { ...adminSettings, url: withDatabase(adminSettings.url, account.database) };
        await withAdminConnection(inDatabase, async (client) => report(await ensureSchemaAccess(client, account)));
      }
    }
    if (flag('create-tables')) {
      const migrations = await createTables(db, (line) => io.out(line));
      // Per-migration lines only when something happened; a rerun says just the summary.
      if (migrations.some((m) => m.status === 'applied')) {
        for (const m of migrations) {
          const status = m.status === 'applied' ? 'applied' : 'already applied';
          report({ changed: m.status === 'applied', message: `migration ${m.version} (${m.name}): ${status}` });
        }
      }
      io.out(`schema up to date (${migrations.length} migrations)`);
    }
    if (results.length > 0 || flag('create-tables')) {
      const changed = results.filter((r) => r.changed).length;
      io.out(
        changed === 0
          ? 'nothing changed: everything was already set up'
          : `done: ${changed} change${changed === 1 ? '' : 's'}`,
      );
    }
    if (args.values.test === true) return runConnectionTest(db, io);
    return EXIT_OK;
  },
};

/** Without DATABASE_URL or POSTGRES_*, `npm start` keeps using the embedded server: say so. */
function warnIfServiceUsesAnotherStore(config: Config, io: CliIo): void {
  if (config.backend === 'postgres') return;
  io.err(
    `note: GATEKEEPER_BACKEND resolves to ${config.backend}, so the service will not use this database; ` +
      'set DATABASE_URL (or POSTGRES_*) for it as well',
  );
}
