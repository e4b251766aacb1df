/**
 * The one way Gatekeeper runs SQL on a pool: check a connection out, run, give it
 * back (destroyed instead when its connection broke), and turn driver errors into
 * the project's errors (./errors.ts) exactly once, at this boundary. Every module
 * that runs SQL on a pool goes through here; the SQL itself lives in the module
 * that owns the table (./facets/*.ts, ./bulk-users.ts, ./user-reader.ts,
 * ./migrator.ts, ./provision.ts, ./service-connection.ts, ./notifications.ts).
 */
import type pg from 'pg';
import { isConnectionError, translateError, type ConnectionTarget } from './errors.js';
import { utcTypes, type Statement } from './pool.js';

/** SQL text plus which parameters hold secrets; values are given when it runs. A bare string has none. */
export type Sql = Omit<Statement, 'values'> | string;

/** Runs statements on one connection that is already checked out (inside a transaction). */
export interface Queryer {
  /** Raw driver errors: the transaction around it decides and translates. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: Sql, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface Executor {
  /** Where it connects, for messages (never a password). */
  readonly target: ConnectionTarget;
  /** The pool, for its figures in /health. */
  readonly pool: pg.Pool;
  /** One statement on a pooled connection; errors come back translated. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: Sql, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * BEGIN … COMMIT on one checked-out connection, ROLLBACK on any error. With
   * `attempts` > 1, deadlocks and serialization failures run `fn` again from the start.
   */
  transaction<T>(fn: (tx: Queryer) => Promise<T>, options?: { attempts?: number }): Promise<T>;
  /**
   * `fn` on one checked-out connection (for session state such as advisory locks or
   * LISTEN), given raw and as a Queryer that echoes; destroyed rather than reused if `fn` fails.
   */
  withConnection<T>(fn: (client: pg.PoolClient, session: Queryer) => Promise<T>): Promise<T>;
  /** Ends the pool; harmless when called again. */
  close(): Promise<void>;
}

export interface ExecutorOptions {
  target: ConnectionTarget;
  /** Called with every statement before it runs (POSTGRES_ECHO). */
  echo?: ((statement: Statement) => void) | undefined;
  /** How errors leave the executor; default translateError (./errors.ts) for `target`. */
  translate?: (err: unknown) => unknown;
  /**
   * The pool is the caller's (a pg.Pool handed to buildGatekeeper): close() leaves it open, and
   * since its connections were not made by createPool, every result is read with the UTC
   * timestamp parser (./pool.ts, utcTypes). Their session settings are left as the caller made them.
   */
  sharedPool?: boolean;
  /**
   * How long to wait for the answer to one statement before giving the connection up as silent
   * (./pool.ts statementDeadlineMillis); null or absent: no limit.
   */
  statementDeadlineMs?: number | null;
  /** Sent with BEGIN, in the same round trip: the SET LOCAL timeouts (./pool.ts transactionSetup). */
  transactionSetup?: string | null;
}

/**
 * @example
 * const db = createExecutor(createPool(settings), { target: connectionTarget(settings.url) });
 * const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
 */
export function createExecutor(pool: pg.Pool, options: ExecutorOptions): Executor {
  const translate = options.translate ?? ((err: unknown) => translateError(err, options.target));
  const echo = options.echo;
  let closed = false;

  const shared = options.sharedPool === true;
  // pg reads query_timeout per query: on expiry the query fails with "Query read timeout", which
  // errors.ts counts as a lost connection, so the connection is destroyed rather than reused.
  const deadline = options.statementDeadlineMs ?? undefined;
  const begin = options.transactionSetup ? `BEGIN; ${options.transactionSetup}` : 'BEGIN';
  const run = <R extends pg.QueryResultRow>(client: pg.ClientBase, sql: Sql, values: unknown[] = []) => {
    const statement = typeof sql === 'string' ? { text: sql } : sql;
    echo?.({ ...statement, values });
    return client.query<R>({
      text: statement.text,
      values,
      ...(shared ? { types: utcTypes } : {}),
      ...(deadline === undefined ? {} : { query_timeout: deadline }),
    } as pg.QueryConfig);
  };
  const session = (client: pg.ClientBase): Queryer => ({
    query: <R extends pg.QueryResultRow>(sql: Sql, values?: unknown[]) => run<R>(client, sql, values),
  });
  const connect = async (): Promise<pg.PoolClient> => {
    try {
      return await pool.connect();
    } catch (err) {
      throw translate(err);
    }
  };

  return {
    target: options.target,
    pool,

    async query<R extends pg.QueryResultRow>(sql: Sql, values?: unknown[]) {
      // Not pool.query(): it would close the connection after any error, even a unique violation.
      const client = await connect();
      try {
        const result = await run<R>(client, sql, values);
        client.release();
        return result;
      } catch (err) {
        client.release(isConnectionError(err));
        throw translate(err);
      }
    },

    async transaction(fn, { attempts = 1 } = {}) {
      for (let attempt = 1; ; attempt += 1) {
        const client = await connect();
        let broken = false;
        try {
          await run(client, begin);
          const result = await fn(session(client));
          await run(client, 'COMMIT');
          return result;
        } catch (err) {
          broken = isConnectionError(err);
          if (!broken) {
            await run(client, 'ROLLBACK').catch(() => {
              broken = true;
            });
          }
          if (!broken && attempt < attempts && isRetryable(err)) continue;
          throw translate(err);
        } finally {
          client.release(broken);
        }
      }
    },

    async withConnection(fn) {
      const client = await connect();
      let failed = false;
      try {
        return await fn(client, session(client));
      } catch (err) {
        failed = true;
        throw translate(err);
      } finally {
        // Destroyed rather than reused after a failure: it may hold a lock or a broken socket.
        client.release(failed);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      if (!shared) await pool.end();
    },
  };
}

/** Deadlock (40P01) and serialization failure (40001): the transaction may simply run again. */
function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}

/** The only row of a result that must have one (RETURNING, count(*)). */
export function one<T>(rows: T[]): T {
  const row = rows[0];
  if (row === undefined) throw new Error('Expected one row, got none');
  return row;
}
