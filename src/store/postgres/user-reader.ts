/**
 * Reads every row of a `users` table, page by page in id order (keyset pagination:
 * each page is one index range scan, however far in), for migrate-users and export.
 * Never writes, never migrates: the source stays exactly as it was.
 *
 * Two layouts are understood:
 * - `gatekeeper`: this project's migrations (0001_users.sql), JSONB column `metadata`;
 * - `reynard`: the Python Reynard Gatekeeper (SQLAlchemy create_all): the same
 *   columns, but the metadata column is `user_metadata` (JSON) and the timestamps are
 *   TIMESTAMP without time zone holding UTC (it wrote `datetime.now(timezone.utc)`).
 * Rows come back with this project's snake_case column names, as found: checking
 * them is the caller's job.
 */
import type pg from 'pg';
import { describeServerAddress } from './database-config.js';
import { createExecutor } from './executor.js';
import { OperationProblem } from './operation-problem.js';
import { connectionTarget, createPool, type PoolSettings } from './pool.js';

export type UsersLayout = 'gatekeeper' | 'reynard';

/** Required in any layout: without them there is no account to copy. */
const REQUIRED = ['id', 'username', 'password_hash'];
/** Read when present; a row without them gets the schema's defaults (see rowToUser). */
const OPTIONAL = ['role', 'email', 'profile_picture_url', 'yapcoin_balance', 'is_active', 'created_at', 'updated_at'];

export interface UsersTableReader {
  layout: UsersLayout;
  count(): Promise<number>;
  /** Raw rows keyed by this project's column names; `id` as text. */
  pages(size: number): AsyncGenerator<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/**
 * @param layout `auto` tells the layouts apart by their metadata column; `reynard` insists on user_metadata.
 * @example const reader = await openUsersTableReader(settings, 'auto'); for await (const rows of reader.pages(500)) …
 */
export async function openUsersTableReader(
  settings: PoolSettings,
  layout: 'auto' | 'reynard',
): Promise<UsersTableReader> {
  const target = connectionTarget(settings.url);
  // Reading a whole legacy table is legitimately long: no statement timeout (a person runs and watches it).
  const db = createExecutor(createPool({ ...settings, poolSize: 1, maxOverflow: 1, statementTimeoutSeconds: 0 }), {
    target,
  });
  const query = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => db.query<R>(text, values);
  try {
    const { rows } = await query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'users'`,
    );
    const present = new Set(rows.map((r) => r.column_name));
    const found = detectLayout(present, layout, `${target.database} on ${describeServerAddress(target)}`);
    const select = selectList(present, found);
    return {
      layout: found,
      count: async () => (await query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0]?.n ?? 0,
      async *pages(size) {
        let after: string | null = null;
        for (;;) {
          const page: pg.QueryResult<Record<string, unknown>> =
            after === null
              ? await query(`SELECT ${select} FROM users ORDER BY users.id LIMIT $1`, [size])
              : await query(`SELECT ${select} FROM users WHERE users.id > $1 ORDER BY users.id LIMIT $2`, [
                  after,
                  size,
                ]);
          if (page.rows.length === 0) return;
          yield page.rows;
          after = String(page.rows[page.rows.length - 1]?.id);
          if (page.rows.length < size) return;
        }
      },
      close: () => db.close(),
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

function detectLayout(present: Set<string>, wanted: 'auto' | 'reynard', where: string): UsersLayout {
  if (present.size === 0) throw new OperationProblem(`there is no users table in database ${where}`);
  const missing = REQUIRED.filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new OperationProblem(
      `the users table in ${where} has no column ${missing.join(', ')}: not a Gatekeeper users table`,
    );
  }
  if (wanted === 'reynard' && !present.has('user_metadata')) {
    throw new OperationProblem(
      `the users table in ${where} has no user_metadata column: not a Reynard Gatekeeper database`,
    );
  }
  if (wanted === 'reynard') return 'reynard';
  return present.has('user_metadata') && !present.has('metadata') ? 'reynard' : 'gatekeeper';
}

/** Column names come from the fixed lists above, never from input, so they are safe to splice in. */
function selectList(present: Set<string>, layout: UsersLayout): string {
  const metadataColumn = layout === 'reynard' ? 'user_metadata' : 'metadata';
  return [
    'users.id::text AS id',
    'username',
    'password_hash',
    ...OPTIONAL.filter((c) => present.has(c)),
    ...(present.has(metadataColumn) ? [`${metadataColumn} AS metadata`] : []),
  ].join(', ');
}
