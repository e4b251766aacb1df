/**
 * Managing OAuth clients (the admin routes under /auth/clients and `gatekeeper clients`):
 * the services that authenticate to Gatekeeper as themselves, for token introspection
 * now and OpenID Connect later. A confidential client gets a secret that is shown once
 * (here, in the result) and stored only as its SHA-256 (src/security/client-secrets.ts);
 * a public client has none and cannot introspect. Every change is audited with `by`.
 */
import {
  GRANT_TYPES,
  CLIENT_LIMITS,
  clientNameProblem,
  parseGrantType,
  redirectUriProblem,
  type GrantType,
} from '../core/oauth-clients.js';
import type { AuditEventType } from '../core/audit-events.js';
import { GatekeeperError, invalidField } from '../errors.js';
import { hashClientSecret, newClientId, newClientSecret } from '../security/client-secrets.js';
import type { OAuthClientRecord } from '../store/store.js';
import { actorName, hasAdminAuthority, type Actor, type RequestContext } from './actor.js';
import type { UseCaseDeps } from './deps.js';

/** A client to register, as an admin asks for it. */
export interface NewClientInput {
  name: string;
  /** Compared exactly when OpenID Connect redirects; duplicates are dropped. */
  redirectUris?: string[];
  grantTypes?: string[];
  /** No secret: a browser or mobile app, which cannot keep one (cannot introspect either). */
  public?: boolean;
  firstParty?: boolean;
}

/** A client with its secret in clear: only right after creation or rotation, never stored. */
export interface ClientWithSecret {
  client: OAuthClientRecord;
  /** Null for a public client. */
  clientSecret: string | null;
}

/** The context of every client operation: who acts (with admin authority) and from where. */
export type AdminContext = RequestContext & { actor: Actor };

export function clientNotFound(): GatekeeperError {
  return new GatekeeperError('CLIENT_NOT_FOUND', 'No client with that client_id.');
}

/** The client use cases; AuthService delegates to them. */
export class Clients {
  readonly #deps: UseCaseDeps;

  constructor(deps: UseCaseDeps) {
    this.#deps = deps;
  }

  /** Registers a client; a confidential one's secret is in the result and nowhere else. */
  async createClient(input: NewClientInput, context: AdminContext): Promise<ClientWithSecret> {
    requireAdmin(context);
    const fields = validateClient(input);
    const clientSecret = fields.public ? null : newClientSecret();
    const client = await this.#deps.store.createOAuthClient({
      clientId: newClientId(),
      name: fields.name,
      secretHash: clientSecret === null ? null : hashClientSecret(clientSecret),
      redirectUris: fields.redirectUris,
      grantTypes: fields.grantTypes,
      firstParty: fields.firstParty,
      createdAt: this.#deps.now(),
      createdBy: actorName(context.actor),
    });
    await this.#record('client.create', client, context, {
      name: client.name,
      public: client.secretHash === null,
      first_party: client.firstParty,
      redirect_uris: client.redirectUris,
      grant_types: client.grantTypes,
    });
    return { client, clientSecret };
  }

  /** Every client in creation order. */
  async listClients(context: AdminContext): Promise<OAuthClientRecord[]> {
    requireAdmin(context);
    return this.#deps.store.listOAuthClients();
  }

  /** The client, or CLIENT_NOT_FOUND. */
  async getClient(clientId: string, context: AdminContext): Promise<OAuthClientRecord> {
    requireAdmin(context);
    const client = await this.#deps.store.getOAuthClient(clientId);
    if (!client) throw clientNotFound();
    return client;
  }

  /** Deletes the client: its secret stops working at once. */
  async deleteClient(clientId: string, context: AdminContext): Promise<void> {
    const client = await this.getClient(clientId, context);
    if (!(await this.#deps.store.deleteOAuthClient(client.clientId))) throw clientNotFound();
    await this.#record('client.delete', client, context, { name: client.name });
  }

  /** A new secret for a confidential client; the old one stops working at once. BAD_REQUEST for a public client. */
  async rotateClientSecret(
    clientId: string,
    context: AdminContext,
  ): Promise<ClientWithSecret & { clientSecret: string }> {
    const client = await this.getClient(clientId, context);
    if (client.secretHash === null) {
      throw new GatekeeperError('BAD_REQUEST', 'A public client has no secret to rotate.');
    }
    const clientSecret = newClientSecret();
    const rotated = await this.#deps.store.rotateOAuthClientSecret(
      client.clientId,
      hashClientSecret(clientSecret),
      this.#deps.now(),
    );
    if (!rotated) throw clientNotFound();
    await this.#record('client.rotate_secret', rotated, context, { name: rotated.name });
    return { client: rotated, clientSecret };
  }

  #record(
    event: AuditEventType,
    client: OAuthClientRecord,
    context: AdminContext,
    detail: Record<string, unknown>,
  ): Promise<void> {
    // The event is about a client, not a user: the user columns stay empty, as for key.rotate.
    return this.#deps.audit.record({
      event,
      at: this.#deps.now(),
      ip: context.ip ?? null,
      username: null,
      userId: null,
      detail: { client_id: client.clientId, by: actorName(context.actor), ...detail },
    });
  }
}

/** Authority is checked by the admin routes' hook too; here it holds for every caller (library use included). */
function requireAdmin(context: AdminContext): void {
  if (!hasAdminAuthority(context.actor)) throw new GatekeeperError('FORBIDDEN', 'This needs the admin role.');
}

interface ValidClient {
  name: string;
  redirectUris: string[];
  grantTypes: GrantType[];
  public: boolean;
  firstParty: boolean;
}

/** Every rule of src/core/oauth-clients.ts; the first broken one is a VALIDATION_ERROR on its wire field. */
function validateClient(input: NewClientInput): ValidClient {
  const name = input.name.trim();
  const nameProblem = clientNameProblem(name);
  if (nameProblem) throw invalidField('name', nameProblem);
  const redirectUris = [...new Set(input.redirectUris ?? [])];
  if (redirectUris.length > CLIENT_LIMITS.redirectUrisMax) {
    throw invalidField('redirect_uris', `At most ${CLIENT_LIMITS.redirectUrisMax} redirect URIs.`);
  }
  for (const uri of redirectUris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw invalidField('redirect_uris', problem);
  }
  const grantTypes: GrantType[] = [];
  for (const text of new Set(input.grantTypes ?? [])) {
    const grant = parseGrantType(text);
    if (grant === null) throw invalidField('grant_types', `A grant type must be one of ${GRANT_TYPES.join(', ')}.`);
    grantTypes.push(grant);
  }
  const isPublic = input.public ?? false;
  if (isPublic && grantTypes.includes('client_credentials')) {
    // RFC 6749 §4.4: the client credentials grant is for confidential clients only.
    throw invalidField('grant_types', 'A public client cannot use the client_credentials grant.');
  }
  return { name, redirectUris, grantTypes, public: isPublic, firstParty: input.firstParty ?? false };
}
