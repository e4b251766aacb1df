/** The OAuth clients facet in process memory (src/store/contract/clients.ts). */
import type { ClientsStore, OAuthClientRecord } from '../contract/clients.js';
import { clientIdTaken, completeNewOAuthClient } from '../rules.js';

/** @example const clients = createMemoryClients(); */
export function createMemoryClients(): ClientsStore {
  const clients = new Map<string, OAuthClientRecord>();

  return {
    async createOAuthClient(input) {
      const record = completeNewOAuthClient(input);
      if (clients.has(record.clientId) || [...clients.values()].some((c) => c.id === record.id)) {
        throw clientIdTaken();
      }
      clients.set(record.clientId, record);
      return copy(record);
    },

    async getOAuthClient(clientId) {
      const client = clients.get(clientId);
      return client ? copy(client) : null;
    },

    async listOAuthClients() {
      return [...clients.values()]
        .sort(
          (a, b) =>
            a.createdAt.getTime() - b.createdAt.getTime() ||
            (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0),
        )
        .map(copy);
    },

    async deleteOAuthClient(clientId) {
      return clients.delete(clientId);
    },

    async rotateOAuthClientSecret(clientId, secretHash, now) {
      const client = clients.get(clientId);
      if (!client) return null;
      client.secretHash = secretHash;
      client.secretRotatedAt = new Date(now);
      return copy(client);
    },
  };
}

function copy(client: OAuthClientRecord): OAuthClientRecord {
  return structuredClone(client);
}
