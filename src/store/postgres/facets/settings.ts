/** The settings facet on PostgreSQL (src/store/contract/settings.ts): the SQL of table `settings`. */
import type { SettingsStore } from '../../contract/settings.js';
import type { Executor } from '../executor.js';

const SQL = {
  get: { text: 'SELECT value FROM settings WHERE key = $1' },
  insert: {
    text: 'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value',
    secretParams: [2],
  },
};

/** @example const settings = createPostgresSettings(db); */
export function createPostgresSettings(db: Executor): SettingsStore {
  const getSetting = async (key: string) => {
    const { rows } = await db.query<{ value: string }>(SQL.get, [key]);
    return rows[0]?.value ?? null;
  };
  return {
    getSetting,
    async putSettingIfAbsent(key, value) {
      const inserted = await db.query<{ value: string }>(SQL.insert, [key, value]);
      if (inserted.rows[0]) return inserted.rows[0].value;
      // ON CONFLICT DO NOTHING waited for a concurrent first writer to commit, so its row is visible now.
      const stored = await getSetting(key);
      if (stored === null) throw new Error(`Setting ${key} vanished between insert and read`);
      return stored;
    },
  };
}
