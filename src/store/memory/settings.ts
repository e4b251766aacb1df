/** The settings facet in process memory (src/store/contract/settings.ts). */
import type { SettingsStore } from '../contract/settings.js';

/** @example const settings = createMemorySettings(); */
export function createMemorySettings(): SettingsStore {
  const settings = new Map<string, string>();
  return {
    async getSetting(key) {
      return settings.get(key) ?? null;
    },
    async putSettingIfAbsent(key, value) {
      const existing = settings.get(key);
      if (existing !== undefined) return existing;
      settings.set(key, value);
      return value;
    },
  };
}
