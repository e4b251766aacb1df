/**
 * The PostgreSQL server every process of the bench shares: the embedded one (the same code
 * and binaries as Gatekeeper's zero-setup default) in a temporary data directory, or the
 * server named by DATABASE_URL. Each scenario gets a database of its own on it.
 */
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/postgres/embedded.js';

export interface Database {
  /** `embedded` or `DATABASE_URL`. */
  source: 'embedded' | 'external';
  version: string;
  /** The URL of database `name` on this server. */
  urlOf(name: string): string;
  /** Drops (if present) and creates database `name`; returns its URL. */
  create(name: string): Promise<string>;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    url: string,
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  close(): Promise<void>;
}

/** Enough for every pool of the busiest scenario (N workers × 30, the peers, the bench's own client). */
const MAX_CONNECTIONS = 300;

export async function openDatabase(tmpDir: string, log: (line: string) => void): Promise<Database> {
  const external = process.env.DATABASE_URL;
  let embedded: EmbeddedPostgres | null = null;
  let adminUrl: string;
  if (external) {
    adminUrl = external;
    log(`using the PostgreSQL server of DATABASE_URL (${new URL(external).host})`);
  } else {
    const dataDir = path.join(tmpDir, 'postgres');
    embedded = await startEmbeddedPostgres({ dataDir });
    const current = await queryOnce(embedded.adminUrl, 'SHOW max_connections');
    if (Number(current.rows[0]?.max_connections) < MAX_CONNECTIONS) {
      await queryOnce(embedded.adminUrl, `ALTER SYSTEM SET max_connections = ${MAX_CONNECTIONS}`);
      await embedded.stop();
      embedded = await startEmbeddedPostgres({ dataDir });
    }
    adminUrl = embedded.adminUrl;
    log(`embedded PostgreSQL ${embedded.version} on port ${embedded.port} (data in ${dataDir})`);
  }
  const version = String(
    (await queryOnce(adminUrl, "SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?',
  );
  const created: string[] = [];
  const urlOf = (name: string) => {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    source: embedded ? 'embedded' : 'external',
    version,
    urlOf,
    async create(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new TypeError(`bad database name ${name}`);
      await queryOnce(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await queryOnce(adminUrl, `CREATE DATABASE ${name}`);
      created.push(name);
      return urlOf(name);
    },
    query: queryOnce,
    async close() {
      if (embedded) {
        await embedded.stop();
        return;
      }
      // On somebody else's server, leave nothing behind.
      for (const name of created) {
        await queryOnce(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      }
    },
  };
}

async function queryOnce<R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query<R>(text, values);
  } finally {
    await client.end();
  }
}
