/**
 * The administrative half of `gatekeeper setup-postgres`: the service's role and
 * database, created or corrected over an admin connection, idempotently. Each step
 * says what it found and whether it changed anything.
 *
 * The role OWNS the database: since PostgreSQL 15 the schema `public` belongs to
 * `pg_database_owner` and other roles may not create tables in it, so the seed's
 * `GRANT ALL PRIVILEGES ON DATABASE` alone ends in "permission denied for schema public".
 */
import pg from 'pg';
import { GatekeeperError } from '../../errors.js';
import { describeDatabaseTarget } from './database-config.js';
import { describeConnectionError, isConnectionError } from './errors.js';
import { createExecutor } from './executor.js';
import { OperationProblem } from './operation-problem.js';
import { connectionTarget, createPool, type PoolSettings } from './pool.js';
import { passwordMatches, scramVerifier } from './role-password.js';

export interface ServiceAccount {
  role: string;
  /** Never printed; sent only as a SCRAM secret. */
  password: string;
  database: string;
}

export interface StepResult {
  changed: boolean;
  message: string;
}

const ident = (name: string) => pg.escapeIdentifier(name);
const literal = (text: string) => pg.escapeLiteral(text);

/**
 * Runs `fn` on one admin connection and closes it. Connection failures become
 * DATABASE_UNAVAILABLE with one line about the admin connection; missing rights an OperationProblem.
 */
export async function withAdminConnection<T>(settings: PoolSettings, fn: (client: pg.PoolClient) => Promise<T>) {
  const db = createExecutor(createPool({ ...settings, poolSize: 1, maxOverflow: 0 }), {
    target: connectionTarget(settings.url),
    translate: (err) => translateAdminError(err, settings.url),
  });
  try {
    return await db.withConnection(fn);
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** Creates the LOGIN role with the configured password, or makes an existing one match it. */
export async function ensureRole(client: pg.ClientBase, account: ServiceAccount): Promise<StepResult> {
  const { row, passwordReadable } = await readRole(client, account.role);
  const password = literal(scramVerifier(account.password));
  if (!row) {
    await client.query(`CREATE ROLE ${ident(account.role)} LOGIN PASSWORD ${password}`);
    return { changed: true, message: `created role ${account.role} (LOGIN, with the configured password)` };
  }
  const changes: string[] = [];
  if (!row.rolcanlogin) {
    await client.query(`ALTER ROLE ${ident(account.role)} LOGIN`);
    changes.push('allowed it to log in');
  }
  if (passwordReadable && !passwordMatches(row.rolpassword, account.password, account.role)) {
    await client.query(`ALTER ROLE ${ident(account.role)} PASSWORD ${password}`);
    changes.push('set its password to the configured one');
  }
  const unchecked = passwordReadable ? '' : ' (password not checked: the admin role cannot read pg_authid)';
  if (changes.length === 0) return { changed: false, message: `role ${account.role} exists${unchecked}` };
  return { changed: true, message: `role ${account.role} exists: ${changes.join(', ')}${unchecked}` };
}

/** Creates the database owned by the role, or hands an existing one to the role. */
export async function ensureDatabase(client: pg.ClientBase, account: ServiceAccount): Promise<StepResult> {
  const roleRow = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [account.role]);
  if (roleRow.rowCount === 0) {
    throw new OperationProblem(`role ${account.role} does not exist: create it first (setup-postgres --create-role)`);
  }
  const { rows } = await client.query<{ owner: string }>(
    'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
    [account.database],
  );
  const found = rows[0];
  const { role, database } = account;
  if (!found) {
    await client.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(role)}`);
    return { changed: true, message: `created database ${database}, owned by ${role}` };
  }
  if (found.owner !== role) {
    await client.query(`ALTER DATABASE ${ident(database)} OWNER TO ${ident(role)}`);
    return {
      changed: true,
      message: `database ${database} exists: owner changed from ${found.owner} to ${role} (PostgreSQL 15+ lets only the owner create tables in schema public)`,
    };
  }
  return { changed: false, message: `database ${database} exists, owned by ${role}` };
}

/**
 * Inside the service's database (admin connection to it): grants CREATE on schema
 * public when ownership alone does not give it (a cluster upgraded from before 15
 * keeps the old owner of public). Null when nothing was needed.
 */
export async function ensureSchemaAccess(client: pg.ClientBase, account: ServiceAccount): Promise<StepResult | null> {
  const { rows } = await client.query<{ ok: boolean }>(
    `SELECT has_schema_privilege($1, 'public', 'CREATE') AND has_schema_privilege($1, 'public', 'USAGE') AS ok`,
    [account.role],
  );
  if (rows[0]?.ok) return null;
  await client.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${ident(account.role)}`);
  return { changed: true, message: `granted USAGE, CREATE on schema public to ${account.role}` };
}

interface RoleRow {
  rolcanlogin: boolean;
  rolpassword: string | null;
}

/** pg_authid holds the password secret but only superusers may read it; pg_roles is the fallback. */
async function readRole(client: pg.ClientBase, role: string) {
  try {
    const { rows } = await client.query<RoleRow>('SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = $1', [
      role,
    ]);
    return { row: rows[0], passwordReadable: true };
  } catch (err) {
    if ((err as { code?: string }).code !== '42501') throw err;
    const { rows } = await client.query<RoleRow>(
      'SELECT rolcanlogin, NULL::text AS rolpassword FROM pg_roles WHERE rolname = $1',
      [role],
    );
    return { row: rows[0], passwordReadable: false };
  }
}

function translateAdminError(err: unknown, url: string): unknown {
  if (err instanceof OperationProblem || err instanceof GatekeeperError) return err;
  const target = connectionTarget(url);
  const where = `admin connection ${describeDatabaseTarget(target)}`;
  const hint = 'Give the admin credentials in --admin-url or POSTGRES_ADMIN_URL.';
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes('client password must be a string')) {
    return unavailable(`${where}: the server asks for a password and none was given. ${hint}`, err);
  }
  if (code === '28P01' || (code === '28000' && !message.includes('no pg_hba.conf entry'))) {
    return unavailable(`${where}: authentication failed for user "${target.user}". ${hint}`, err);
  }
  if (code === '42501') {
    return new OperationProblem(
      `${where}: ${message.split('\n', 1)[0]}. The admin role must be a superuser, or have CREATEROLE and CREATEDB.`,
      { cause: err },
    );
  }
  if (isConnectionError(err)) return unavailable(`${where}: ${describeConnectionError(err, target)}`, err);
  return err;
}

function unavailable(message: string, cause: unknown): GatekeeperError {
  return new GatekeeperError('DATABASE_UNAVAILABLE', message, { cause });
}
