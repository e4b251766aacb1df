/** The settings facet of the storage contract: small durable values (the generated HS256 secret). */
export interface SettingsStore {
  getSetting(key: string): Promise<string | null>;
  /** Stores `value` unless the key exists; returns the value that is stored now (first writer wins). */
  putSettingIfAbsent(key: string, value: string): Promise<string>;
}
