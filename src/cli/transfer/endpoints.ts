/**
 * Where users are copied from and to: the --from/--to words of migrate-users, and
 * the configured store for import/export.
 *
 *   postgresql://…          a PostgreSQL database (Gatekeeper or Reynard layout, detected)
 *   reynard+postgresql://…  a database of the Python Reynard Gatekeeper (source only)
 *   embedded:<data dir>     the embedded PostgreSQL of a data directory, e.g. embedded:./data
 *   jsonl:<file>            a JSON Lines file (see jsonl-file.ts)
 */
import path from 'node:path';
import { describeDatabaseTarget, type Config } from '../../config.js';
import { openBulkUserWriter } from '../../store/postgres/bulk-users.js';
import { connectionTarget, type PoolSettings } from '../../store/postgres/pool.js';
import { createTables } from '../../store/postgres/service-connection.js';
import { openUsersTableReader } from '../../store/postgres/user-reader.js';
import { UsageError } from '../command.js';
import { borrowEmbedded } from '../../compose/embedded-server.js';
import { settingsFromUrl } from '../url-settings.js';
import type { UserSink, UserSource } from './copy-users.js';
import { jsonlSink, openJsonlSource } from './jsonl-file.js';
import { rowToUser } from './user-rows.js';

export type Endpoint =
  | { kind: 'postgres'; settings: PoolSettings; layout: 'auto' | 'reynard' }
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'jsonl'; file: string };

const FORMS = 'postgresql://…, reynard+postgresql://… (source only), embedded:<data dir> or jsonl:<file>';

/** @example parseEndpoint('embedded:./data', '--from') */
export function parseEndpoint(text: string, flag: '--from' | '--to'): Endpoint {
  const reynard = /^reynard\+(postgres(ql)?:\/\/.*)$/s.exec(text);
  if (reynard) {
    if (flag === '--to') throw new UsageError('--to cannot be a Reynard database: Gatekeeper writes its own schema');
    return { kind: 'postgres', settings: settingsFromUrl(reynard[1] ?? '', flag), layout: 'reynard' };
  }
  if (/^postgres(ql)?:\/\//.test(text))
    return { kind: 'postgres', settings: settingsFromUrl(text, flag), layout: 'auto' };
  const [scheme, ...rest] = text.split(':');
  const value = rest.join(':');
  if (scheme === 'embedded' && value !== '') return { kind: 'embedded', dataDir: path.resolve(value) };
  if (scheme === 'jsonl' && value !== '') return { kind: 'jsonl', file: path.resolve(value) };
  // The text is not shown: it may be a URL with a password and a typo in the scheme.
  throw new UsageError(`${flag} must be one of ${FORMS}`);
}

/** The store the service is configured for (import/export). */
export function configuredEndpoint(config: Config): Endpoint {
  if (config.backend === 'memory') {
    throw new UsageError('GATEKEEPER_BACKEND=memory has no users outside the service process to import or export');
  }
  if (config.backend === 'embedded') return { kind: 'embedded', dataDir: config.dataDir };
  return { kind: 'postgres', settings: config.database, layout: 'auto' };
}

export function describeEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === 'postgres')
    return `PostgreSQL ${describeDatabaseTarget(connectionTarget(endpoint.settings.url))}`;
  if (endpoint.kind === 'embedded') return `embedded PostgreSQL in ${endpoint.dataDir}`;
  return `JSON Lines file ${endpoint.file}`;
}

/** Whether two endpoints are the same place (copying a store onto itself is a mistake, not a no-op). */
export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  const place = (e: Endpoint) =>
    e.kind === 'postgres'
      ? describeDatabaseTarget(connectionTarget(e.settings.url))
      : e.kind === 'embedded'
        ? e.dataDir
        : e.file;
  return a.kind === b.kind && place(a) === place(b);
}

export async function openSource(endpoint: Endpoint): Promise<UserSource> {
  if (endpoint.kind === 'jsonl') return openJsonlSource(endpoint.file);
  return withDatabase(endpoint, async (settings, release) => {
    const reader = await openUsersTableReader(settings, endpoint.kind === 'postgres' ? endpoint.layout : 'auto');
    const now = new Date();
    return {
      // Said out loud, since the layout decides how the rows are read.
      description: describeEndpoint(endpoint) + (reader.layout === 'reynard' ? ' [Reynard layout]' : ''),
      count: () => reader.count(),
      async *batches(size) {
        for await (const rows of reader.pages(size)) {
          const checks = rows.map((row) => rowToUser(row, now));
          yield {
            users: checks.flatMap((c) => (c.ok ? [c.user] : [])),
            rejected: checks.flatMap((c) => (c.ok ? [] : [{ label: c.label, reason: c.reason }])),
          };
        }
      },
      close: async () => {
        await reader.close();
        await release();
      },
    };
  });
}

/** @param fresh for export: the file must not exist yet. */
export async function openSink(endpoint: Endpoint, options: { fresh: boolean } = { fresh: false }): Promise<UserSink> {
  if (endpoint.kind === 'jsonl') return jsonlSink(endpoint.file, options);
  return withDatabase(endpoint, async (settings, release) => {
    const writer = openBulkUserWriter(settings);
    return {
      description: describeEndpoint(endpoint),
      // The target gets Gatekeeper's schema first, by the same migrator the service runs at start.
      prepare: async () => void (await createTables(settings)),
      write: (users, onConflict) => writer.writeBatch(users, onConflict),
      finish: async () => undefined,
      close: async () => {
        await writer.close();
        await release();
      },
    };
  });
}

/** Connection settings of a database endpoint; an embedded server is started (or borrowed) for it. */
async function withDatabase<T>(
  endpoint: Exclude<Endpoint, { kind: 'jsonl' }>,
  open: (settings: PoolSettings, release: () => Promise<void>) => Promise<T>,
): Promise<T> {
  if (endpoint.kind === 'postgres') return open(endpoint.settings, async () => undefined);
  const server = await borrowEmbedded(endpoint.dataDir);
  try {
    return await open(settingsFromUrl(server.url, 'embedded'), () => server.release());
  } catch (err) {
    await server.release();
    throw err;
  }
}
