/**
 * `setup-postgres --test`: the seed's connection test. Connects exactly as the
 * service would and prints what an operator checks first. On failure: exit 1 and
 * the same one-line cause and fix the service prints when it cannot start.
 */
import { describeDatabaseTarget, type DatabaseConfig } from '../../config.js';
import { GatekeeperError } from '../../errors.js';
import { connectionTarget } from '../../store/postgres/pool.js';
import { checkServiceConnection, type ConnectionReport } from '../../store/postgres/service-connection.js';
import { EXIT_FAILED, EXIT_OK, type CliIo } from '../command.js';

export async function runConnectionTest(db: DatabaseConfig, io: CliIo): Promise<number> {
  io.out(`connection test: ${describeDatabaseTarget(connectionTarget(db.url))}`);
  let report: ConnectionReport;
  try {
    report = await checkServiceConnection(db);
  } catch (err) {
    if (!(err instanceof GatekeeperError && err.code === 'DATABASE_UNAVAILABLE')) throw err;
    io.err(`gatekeeper: ${err.message}`);
    io.out('connection FAILED');
    return EXIT_FAILED;
  }
  io.out(`  server: PostgreSQL ${report.serverVersion}`);
  io.out(`  ssl: ${report.ssl ? `on (${report.ssl.version ?? '?'}, ${report.ssl.cipher ?? '?'})` : 'off'}`);
  io.out(`  latency: ${report.latencyMs} ms`);
  io.out(`  schema: ${describeSchema(report.schema)}`);
  io.out(`  users: ${report.users ?? 'no users table yet'}`);
  io.out('connection OK');
  return EXIT_OK;
}

function describeSchema(schema: ConnectionReport['schema']): string {
  const applied = schema.known - schema.pending.length;
  if (schema.unknown.length > 0) {
    return `migrations ${schema.unknown.join(', ')} come from a newer Gatekeeper than this one`;
  }
  if (schema.pending.length === 0) return `current (${applied} of ${schema.known} migrations applied)`;
  return `${schema.pending.length} of ${schema.known} migrations pending (the service applies them at start, or run setup-postgres --create-tables)`;
}
