/**
 * `gatekeeper users …`: the admin operations of the API for an operator at the
 * database's side. Everything goes through AuthService, so the CLI gets the API's
 * validation, its errors (printed as `gatekeeper: <detail> (<CODE>)`) and its side
 * effects (demotion and deactivation end the user's sessions at once).
 */
import { operatorActor } from '../../auth/actor.js';
import { toSessionResponse, toUserPublic } from '../../http/wire.js';
import { EXIT_OK, UsageError, choiceOption, stringOption, wholeOption, type Command } from '../command.js';
import { withService } from '../context.js';
import { readNewPassword } from '../password-input.js';
import { printTable } from '../table.js';
import { parseRole as roleNamed, ROLES, type Role } from '../../core/roles.js';

/**
 * Whoever can run this command can already write to the database, so the CLI acts
 * as an operator: an admin's authority, recorded in the audit trail by this name.
 */
const OPERATOR = operatorActor('gatekeeper-cli');

const PASSWORD_NOTE =
  'The password is asked for on a terminal (twice, not shown) or read from the first line of stdin.';

function parseRole(text: string): Role {
  const role = roleNamed(text);
  if (!role) throw new UsageError(`role must be one of ${ROLES.join(', ')} (got ${JSON.stringify(text)})`);
  return role;
}

const create: Command = {
  name: 'create',
  summary: 'create a user (password from a prompt or stdin)',
  help: `Usage: gatekeeper users create <username> [--role admin|regular|guest] [--email E]\n\nCreates an active user. ${PASSWORD_NOTE}`,
  options: { role: { type: 'string' }, email: { type: 'string' } },
  positionals: ['username'],
  async run(args, io) {
    const [username = ''] = args.positionals;
    const roleText = stringOption(args, 'role');
    const role = roleText === undefined ? 'regular' : parseRole(roleText);
    const email = stringOption(args, 'email') ?? null;
    const password = await readNewPassword(io, `Password for ${username}`);
    const user = await withService(io, (service) =>
      service.createUser({ username, password, email, role }, { actor: OPERATOR }),
    );
    io.out(`created user ${user.username} (role ${user.role}, id ${user.id})`);
    return EXIT_OK;
  },
};

const list: Command = {
  name: 'list',
  summary: 'list users (filter by --q text, --role)',
  help: [
    'Usage: gatekeeper users list [--q TEXT] [--role ROLE] [--active true|false] [--skip N] [--limit N] [--json]',
    '',
    'Lists users in creation order: username, role, active, email, created.',
    '--q matches part of the username or email (any case). --limit is 1 to 1000 (default 100).',
    '--json prints one JSON object per user (as the API returns them) instead of the table.',
  ].join('\n'),
  options: {
    q: { type: 'string' },
    role: { type: 'string' },
    active: { type: 'string' },
    skip: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args, io) {
    const roleText = stringOption(args, 'role');
    const active = choiceOption(args, 'active', ['true', 'false', 'any'], 'any');
    const query = {
      skip: wholeOption(args, 'skip', 0, 0, Number.MAX_SAFE_INTEGER),
      limit: wholeOption(args, 'limit', 100, 1, 1000),
      ...(stringOption(args, 'q') === undefined ? {} : { q: stringOption(args, 'q') }),
      ...(roleText === undefined ? {} : { role: parseRole(roleText) }),
      ...(active === 'any' ? {} : { isActive: active === 'true' }),
    };
    const page = await withService(io, (service) => service.listUsers(query));
    if (args.values.json === true) {
      const mfa = await withService(io, (service) => service.mfaEnabledAmong(page.users.map((u) => u.id)));
      for (const user of page.users) io.out(JSON.stringify(toUserPublic(user, mfa.has(user.id))));
      return EXIT_OK;
    }
    printTable(
      io.out,
      ['USERNAME', 'ROLE', 'ACTIVE', 'EMAIL', 'CREATED'],
      page.users.map((u) => [u.username, u.role, u.isActive ? 'yes' : 'no', u.email ?? '-', u.createdAt.toISOString()]),
    );
    io.out(`${page.users.length} of ${page.total} users`);
    return EXIT_OK;
  },
};

const setRole: Command = {
  name: 'set-role',
  summary: "change a user's role (a demotion ends their sessions)",
  help: "Usage: gatekeeper users set-role <username> <admin|regular|guest>\n\nRefuses (LAST_ADMIN) to demote the last active admin. A demotion ends the user's sessions at once.",
  options: {},
  positionals: ['username', 'role'],
  async run(args, io) {
    const [username = '', roleText = ''] = args.positionals;
    const role = parseRole(roleText);
    const user = await withService(io, (service) => service.updateUser(username, { role }));
    io.out(`${user.username} is now ${user.role}`);
    return EXIT_OK;
  },
};

function activation(name: 'activate' | 'deactivate'): Command {
  const isActive = name === 'activate';
  return {
    name,
    summary: isActive ? 'let a user log in again' : 'stop a user from logging in (ends their sessions)',
    help: `Usage: gatekeeper users ${name} <username>${isActive ? '' : "\n\nEnds the user's sessions at once. Refuses (LAST_ADMIN) to deactivate the last active admin."}`,
    options: {},
    positionals: ['username'],
    async run(args, io) {
      const [username = ''] = args.positionals;
      const user = await withService(io, (service) => service.updateUser(username, { isActive }));
      io.out(`${user.username} is now ${user.isActive ? 'active' : 'inactive'}`);
      return EXIT_OK;
    },
  };
}

const setPassword: Command = {
  name: 'set-password',
  summary: "replace a user's password (ends their sessions)",
  help: `Usage: gatekeeper users set-password <username>\n\n${PASSWORD_NOTE} Every session of the user ends.`,
  options: {},
  positionals: ['username'],
  async run(args, io) {
    const [username = ''] = args.positionals;
    const password = await readNewPassword(io, `New password for ${username}`);
    await withService(io, (service) => service.setPassword(username, password));
    io.out(`password of ${username} replaced; their sessions are ended`);
    return EXIT_OK;
  },
};

const revokeTokens: Command = {
  name: 'revoke-tokens',
  summary: 'end every session of a user (access and refresh tokens)',
  help: 'Usage: gatekeeper users revoke-tokens <username>\n\nEnds every login session of the user: their access and refresh tokens stop working at once.',
  options: {},
  positionals: ['username'],
  async run(args, io) {
    const [username = ''] = args.positionals;
    const count = await withService(io, (service) => service.revokeTokens(username));
    io.out(`revoked ${count} session${count === 1 ? '' : 's'} of ${username}`);
    return EXIT_OK;
  },
};

const sessions: Command = {
  name: 'sessions',
  summary: "list a user's live login sessions",
  help: [
    'Usage: gatekeeper users sessions <username> [--json]',
    '',
    "Lists the user's live sessions, oldest first: id, created, last used (login or latest refresh),",
    'expires, client address and user agent of the login. End them all with `users revoke-tokens`.',
    '--json prints one JSON object per session (as GET /auth/users/{username}/sessions returns them).',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  positionals: ['username'],
  async run(args, io) {
    const [username = ''] = args.positionals;
    const list = await withService(io, (service) => service.listUserSessions(username));
    if (args.values.json === true) {
      for (const session of list) io.out(JSON.stringify(toSessionResponse(session)));
      return EXIT_OK;
    }
    printTable(
      io.out,
      ['ID', 'CREATED', 'LAST USED', 'EXPIRES', 'IP', 'USER AGENT'],
      list.map((s) => [
        s.id,
        s.createdAt.toISOString(),
        s.lastUsedAt.toISOString(),
        s.expiresAt.toISOString(),
        s.ip ?? '-',
        s.userAgent ?? '-',
      ]),
    );
    io.out(`${list.length} live session${list.length === 1 ? '' : 's'} of ${username}`);
    return EXIT_OK;
  },
};

const unlock: Command = {
  name: 'unlock',
  summary: "clear a user's failed-login counter (ends a lockout)",
  help: "Usage: gatekeeper users unlock <username>\n\nClears the account's failed-login counter on every instance, so its owner can log in at once.",
  options: {},
  positionals: ['username'],
  async run(args, io) {
    const [username = ''] = args.positionals;
    await withService(io, (service) => service.unlockUser(username, { actor: OPERATOR }));
    io.out(`failed-login counter of ${username} cleared`);
    return EXIT_OK;
  },
};

const mfaReset: Command = {
  name: 'mfa-reset',
  summary: "remove a user's second factor (a lost authenticator)",
  help: "Usage: gatekeeper users mfa-reset <username>\n\nRemoves the user's TOTP secret and recovery codes: a password alone signs in again. Audited, and mailed to the user.",
  options: {},
  positionals: ['username'],
  async run(args, io) {
    const [username = ''] = args.positionals;
    const removed = await withService(io, (service) => service.resetMfa(username, { actor: OPERATOR }));
    io.out(removed ? `second factor of ${username} removed` : `${username} had no second factor`);
    return EXIT_OK;
  },
};

export const usersCommand: Command = {
  name: 'users',
  summary: 'create, list and manage users',
  help: 'Usage: gatekeeper users <command> [options]\n\nManages users with the same rules and errors as the admin API.',
  options: {},
  subcommands: [
    create,
    list,
    setRole,
    activation('activate'),
    activation('deactivate'),
    setPassword,
    revokeTokens,
    sessions,
    unlock,
    mfaReset,
  ],
};
