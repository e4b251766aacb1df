/**
 * The OAuth clients facet of the storage contract: the services and apps that
 * authenticate to Gatekeeper as themselves (token introspection, later OpenID
 * Connect). A client's `clientId` is unique and compared exactly (case matters).
 */

/** One registered client. */
export interface OAuthClientRecord {
  id: string;
  /** The public identifier the client authenticates with (`gk_…`). */
  clientId: string;
  name: string;
  /** SHA-256 (hex) of the client secret; the secret itself is never stored. Null: a public client. */
  secretHash: string | null;
  /** Compared exactly (no prefix or wildcard matching). */
  redirectUris: string[];
  grantTypes: string[];
  /** A client of the operator's own (OIDC may skip the consent screen for it). */
  firstParty: boolean;
  createdAt: Date;
  /** When the secret was last replaced; null while it is the first one. */
  secretRotatedAt: Date | null;
  /** Who created it (an admin's username or the operator's name), when known. */
  createdBy: string | null;
}

/** A client to store; absent lists are empty, `firstParty` false, `createdBy` null. */
export interface NewOAuthClient {
  clientId: string;
  name: string;
  secretHash: string | null;
  redirectUris?: string[];
  grantTypes?: string[];
  firstParty?: boolean;
  createdAt: Date;
  createdBy?: string | null;
  /** Only for imports that must keep the original identity. */
  id?: string;
}

/** Registered clients: create, look up, list, delete, replace the secret. */
export interface ClientsStore {
  /** Throws CLIENT_ID_TAKEN when the client id exists. */
  createOAuthClient(client: NewOAuthClient): Promise<OAuthClientRecord>;
  /** By its exact client id, or null. */
  getOAuthClient(clientId: string): Promise<OAuthClientRecord | null>;
  /** Ordered by createdAt, then clientId. */
  listOAuthClients(): Promise<OAuthClientRecord[]>;
  /** False when there is no such client. */
  deleteOAuthClient(clientId: string): Promise<boolean>;
  /**
   * Atomically replaces the secret hash (the old secret stops working at once) and sets
   * secretRotatedAt to `now`. Returns the updated record, or null when there is no such client.
   */
  rotateOAuthClientSecret(clientId: string, secretHash: string, now: Date): Promise<OAuthClientRecord | null>;
}
