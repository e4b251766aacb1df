/** The signing-keys facet in process memory (src/store/contract/signing-keys.ts). */
import type { SigningAlgorithm } from '../../core/algorithms.js';
import type { SigningKeyRecord, SigningKeysStore } from '../contract/signing-keys.js';

/** @example const keys = createMemorySigningKeys(); */
export function createMemorySigningKeys(): SigningKeysStore {
  let keys: SigningKeyRecord[] = [];
  const active = (algorithm: SigningAlgorithm) => keys.find((k) => k.algorithm === algorithm && k.retiredAt === null);

  return {
    async listSigningKeys(algorithm) {
      return keys
        .filter((k) => k.algorithm === algorithm)
        .sort(
          (a, b) =>
            Number(a.retiredAt !== null) - Number(b.retiredAt !== null) ||
            b.createdAt.getTime() - a.createdAt.getTime(),
        )
        .map(copy);
    },

    async addSigningKeyIfNone(key) {
      const current = active(key.algorithm);
      if (current) return copy(current);
      const record = copy({ ...key, retiredAt: null });
      keys.push(record);
      return copy(record);
    },

    async rotateSigningKey(key) {
      const current = active(key.algorithm);
      if (current) current.retiredAt = new Date(key.createdAt);
      keys.push(copy({ ...key, retiredAt: null }));
      return current ? copy(current) : null;
    },

    async purgeSigningKeys(retiredBefore) {
      const before = keys.length;
      keys = keys.filter((k) => k.retiredAt === null || k.retiredAt >= retiredBefore);
      return before - keys.length;
    },
  };
}

function copy(key: SigningKeyRecord): SigningKeyRecord {
  return structuredClone(key);
}
