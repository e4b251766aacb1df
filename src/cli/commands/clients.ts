/**
 * `gatekeeper clients …`: the OAuth clients of the admin API (/auth/clients) for an
 * operator at the database's side: the services that may introspect tokens
 * (POST /auth/introspect), and later OpenID Connect's clients. Everything goes through
 * AuthService, so the CLI gets the API's validation, errors and audit events (`by`
 * gatekeeper-cli). A secret is printed once, when it is made, and never again.
 */
import { operatorActor } from '../../auth/actor.js';
import type { ClientWithSecret } from '../../auth/auth-service.js';
import { GRANT_TYPES } from '../../core/oauth-clients.js';
import { toClient, toClientWithSecret } from '../../http/wire.js';
import type { OAuthClientRecord } from '../../store/store.js';
import { EXIT_OK, UsageError, listOption, stringOption, type CliIo, type Command } from '../command.js';
import { withService } from '../context.js';
import { printTable } from '../table.js';

/** Whoever can run this command can already write to the database: an operator, named in the audit trail. */
const CONTEXT = { actor: operatorActor('gatekeeper-cli') };

const SECRET_NOTE = 'Store the secret now: it is shown only this once and cannot be shown again.';

/** The client and, when there is one, its new secret: stdout for scripts, the warning on stderr. */
function printWithSecret(io: CliIo, result: ClientWithSecret, json: boolean): void {
  if (json) io.out(JSON.stringify(toClientWithSecret(result)));
  else {
    io.out(`client_id: ${result.client.clientId}`);
    if (result.clientSecret !== null) io.out(`client_secret: ${result.clientSecret}`);
  }
  if (result.clientSecret !== null) io.err(SECRET_NOTE);
}

const create: Command = {
  name: 'create',
  summary: 'register a client (prints its client_id and, once, its secret)',
  help: [
    'Usage: gatekeeper clients create --name NAME [--redirect-uri URI]... [--grant-type G]... [--public] [--first-party] [--json]',
    '',
    'Registers an OAuth client. A confidential client (the default) gets a secret, printed',
    'once with its client_id; Gatekeeper keeps only a hash of it. --public registers a client',
    'without a secret (a browser or mobile app), which cannot introspect tokens.',
    '--redirect-uri and --grant-type may be repeated; redirect URIs are compared exactly.',
    `Grant types: ${GRANT_TYPES.join(', ')}. --first-party marks a client of your own.`,
    '--json prints the client (with client_secret) as one JSON object, as the API returns it.',
  ].join('\n'),
  options: {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'grant-type': { type: 'string', multiple: true },
    public: { type: 'boolean' },
    'first-party': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const name = stringOption(args, 'name');
    if (name === undefined) throw new UsageError('missing --name', ['clients', 'create']);
    const input = {
      name,
      redirectUris: listOption(args, 'redirect-uri'),
      grantTypes: listOption(args, 'grant-type'),
      public: args.values.public === true,
      firstParty: args.values['first-party'] === true,
    };
    const created = await withService(io, (service) => service.createClient(input, CONTEXT));
    printWithSecret(io, created, args.values.json === true);
    return EXIT_OK;
  },
};

const list: Command = {
  name: 'list',
  summary: 'list clients (never their secrets)',
  help: [
    'Usage: gatekeeper clients list [--json]',
    '',
    'Lists clients in creation order: client_id, name, type, first party, created.',
    '--json prints one JSON object per client (as the API returns them) instead of the table.',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  async run(args, io) {
    const clients = await withService(io, (service) => service.listClients(CONTEXT));
    if (args.values.json === true) {
      for (const client of clients) io.out(JSON.stringify(toClient(client)));
      return EXIT_OK;
    }
    printTable(
      io.out,
      ['CLIENT_ID', 'NAME', 'TYPE', 'FIRST_PARTY', 'CREATED'],
      clients.map((c) => [
        c.clientId,
        c.name,
        c.secretHash === null ? 'public' : 'confidential',
        c.firstParty ? 'yes' : 'no',
        c.createdAt.toISOString(),
      ]),
    );
    io.out(`${clients.length} client${clients.length === 1 ? '' : 's'}`);
    return EXIT_OK;
  },
};

function describeClient(client: OAuthClientRecord): string[] {
  const none = (values: string[]) => (values.length === 0 ? '-' : values.join(' '));
  return [
    `client_id:         ${client.clientId}`,
    `name:              ${client.name}`,
    `type:              ${client.secretHash === null ? 'public' : 'confidential'}`,
    `first_party:       ${client.firstParty ? 'yes' : 'no'}`,
    `redirect_uris:     ${none(client.redirectUris)}`,
    `grant_types:       ${none(client.grantTypes)}`,
    `created_at:        ${client.createdAt.toISOString()}`,
    `created_by:        ${client.createdBy ?? '-'}`,
    `secret_rotated_at: ${client.secretRotatedAt?.toISOString() ?? '-'}`,
  ];
}

const show: Command = {
  name: 'show',
  summary: 'show one client (never its secret)',
  help: "Usage: gatekeeper clients show <client_id> [--json]\n\nPrints the client's settings; CLIENT_NOT_FOUND (exit 1) when there is none.",
  options: { json: { type: 'boolean' } },
  positionals: ['client_id'],
  async run(args, io) {
    const [clientId = ''] = args.positionals;
    const client = await withService(io, (service) => service.getClient(clientId, CONTEXT));
    if (args.values.json === true) io.out(JSON.stringify(toClient(client)));
    else for (const line of describeClient(client)) io.out(line);
    return EXIT_OK;
  },
};

const remove: Command = {
  name: 'delete',
  summary: 'delete a client (its secret stops working at once)',
  help: 'Usage: gatekeeper clients delete <client_id>\n\nDeletes the client: it can no longer authenticate (introspection answers 401).',
  options: {},
  positionals: ['client_id'],
  async run(args, io) {
    const [clientId = ''] = args.positionals;
    await withService(io, (service) => service.deleteClient(clientId, CONTEXT));
    io.out(`deleted client ${clientId}`);
    return EXIT_OK;
  },
};

const rotateSecret: Command = {
  name: 'rotate-secret',
  summary: "replace a client's secret (prints the new one, once)",
  help: [
    'Usage: gatekeeper clients rotate-secret <client_id> [--json]',
    '',
    'Gives a confidential client a new secret, printed once; the old secret stops working',
    'at once, so update the service that uses it right away. A public client has no secret (exit 1).',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  positionals: ['client_id'],
  async run(args, io) {
    const [clientId = ''] = args.positionals;
    const rotated = await withService(io, (service) => service.rotateClientSecret(clientId, CONTEXT));
    printWithSecret(io, rotated, args.values.json === true);
    return EXIT_OK;
  },
};

export const clientsCommand: Command = {
  name: 'clients',
  summary: 'register and manage OAuth clients (token introspection)',
  help: 'Usage: gatekeeper clients <command> [options]\n\nManages OAuth clients with the same rules and errors as the admin API (/auth/clients).',
  options: {},
  subcommands: [create, list, show, remove, rotateSecret],
};
