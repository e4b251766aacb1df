/** The OAuth clients facet on PostgreSQL (src/store/contract/clients.ts): the SQL of table `oauth_clients`. */
import type { ClientsStore, OAuthClientRecord } from '../../contract/clients.js';
import { completeNewOAuthClient } from '../../rules.js';
import { one, type Executor } from '../executor.js';

const COLUMNS =
  'id, client_id, name, secret_hash, redirect_uris, grant_types, first_party, created_at, secret_rotated_at, created_by';

const SQL = {
  // A taken client_id (or id) is a unique violation, which ../errors.ts turns into CLIENT_ID_TAKEN.
  insert: {
    text: `INSERT INTO oauth_clients (id, client_id, name, secret_hash, redirect_uris, grant_types, first_party, created_at, created_by)
      VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7, $8, $9) RETURNING ${COLUMNS}`,
    secretParams: [4],
  },
  byClientId: { text: `SELECT ${COLUMNS} FROM oauth_clients WHERE client_id = $1` },
  list: { text: `SELECT ${COLUMNS} FROM oauth_clients ORDER BY created_at, client_id` },
  delete: { text: 'DELETE FROM oauth_clients WHERE client_id = $1' },
  rotate: {
    text: `UPDATE oauth_clients SET secret_hash = $2, secret_rotated_at = $3 WHERE client_id = $1 RETURNING ${COLUMNS}`,
    secretParams: [2],
  },
};

interface ClientRow {
  id: string;
  client_id: string;
  name: string;
  secret_hash: string | null;
  redirect_uris: string[];
  grant_types: string[];
  first_party: boolean;
  created_at: Date;
  secret_rotated_at: Date | null;
  created_by: string | null;
}

function toClient(row: ClientRow): OAuthClientRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    name: row.name,
    secretHash: row.secret_hash,
    redirectUris: row.redirect_uris,
    grantTypes: row.grant_types,
    firstParty: row.first_party,
    createdAt: row.created_at,
    secretRotatedAt: row.secret_rotated_at,
    createdBy: row.created_by,
  };
}

/** @example const clients = createPostgresClients(db); */
export function createPostgresClients(db: Executor): ClientsStore {
  return {
    async createOAuthClient(input) {
      const client = completeNewOAuthClient(input);
      const { rows } = await db.query<ClientRow>(SQL.insert, [
        client.id,
        client.clientId,
        client.name,
        client.secretHash,
        client.redirectUris,
        client.grantTypes,
        client.firstParty,
        client.createdAt.toISOString(),
        client.createdBy,
      ]);
      return toClient(one(rows));
    },

    async getOAuthClient(clientId) {
      const { rows } = await db.query<ClientRow>(SQL.byClientId, [clientId]);
      return rows[0] ? toClient(rows[0]) : null;
    },

    async listOAuthClients() {
      const { rows } = await db.query<ClientRow>(SQL.list);
      return rows.map(toClient);
    },

    async deleteOAuthClient(clientId) {
      const result = await db.query(SQL.delete, [clientId]);
      return result.rowCount === 1;
    },

    async rotateOAuthClientSecret(clientId, secretHash, now) {
      const { rows } = await db.query<ClientRow>(SQL.rotate, [clientId, secretHash, now.toISOString()]);
      return rows[0] ? toClient(rows[0]) : null;
    },
  };
}
