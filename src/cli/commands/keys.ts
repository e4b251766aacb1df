/**
 * `gatekeeper keys …`: the asymmetric JWT signing keys kept in the database
 * (GATEKEEPER_JWT_ALGORITHM=EdDSA, ES256 or RS256). `rotate` adds a new signing
 * key; the one it replaces keeps verifying until the tokens it signed expire, and
 * every running instance switches to the new key within a minute.
 */
import { rotateSigningKey } from '../../auth/key-ring.js';
import { OperationProblem } from '../../store/postgres/operation-problem.js';
import { EXIT_OK, type Command } from '../command.js';
import { loadCliConfig, openCommandStore } from '../context.js';

const rotate: Command = {
  name: 'rotate',
  summary: 'add a new signing key; the old one verifies until its tokens expire',
  help: [
    'Usage: gatekeeper keys rotate',
    '',
    'Generates a new key pair for GATEKEEPER_JWT_ALGORITHM (EdDSA, ES256 or RS256),',
    'stores it as the signing key and retires the current one, which keeps verifying',
    'tokens until they expire (access-token lifetime plus 5 minutes). Running',
    'instances pick the new key up within a minute; /.well-known/jwks.json lists both',
    'meanwhile. Prints the new kid. Recorded in the audit trail as key.rotate.',
    'With HS256 there is no key ring: change GATEKEEPER_SECRET_KEY instead.',
  ].join('\n'),
  options: {},
  async run(_args, io) {
    const config = loadCliConfig(io);
    if (config.jwtAlgorithm === 'HS256') {
      throw new OperationProblem(
        'GATEKEEPER_JWT_ALGORITHM is HS256, which signs with one shared secret: set EdDSA, ES256 or RS256 to use rotating keys, or change GATEKEEPER_SECRET_KEY',
      );
    }
    const opened = await openCommandStore(config);
    try {
      const result = await rotateSigningKey(opened.store, config.jwtAlgorithm, { by: 'gatekeeper-cli' });
      const previous = result.previousKid === null ? 'none' : result.previousKid;
      io.err(`rotated the ${result.algorithm} signing key (previous: ${previous})`);
      io.out(result.kid);
      return EXIT_OK;
    } finally {
      await opened.close();
    }
  },
};

export const keysCommand: Command = {
  name: 'keys',
  summary: 'manage the JWT signing keys (EdDSA, ES256, RS256)',
  help: 'Usage: gatekeeper keys <command>\n\nThe asymmetric JWT signing keys kept in the database.',
  options: {},
  subcommands: [rotate],
};
