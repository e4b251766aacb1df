/**
 * `gatekeeper mail test --to ADDRESS`: one test mail, sent now (no queue, no retry), and
 * the SMTP conversation's outcome in one line, so an operator checks the relay settings
 * before a user needs a reset link. Without SMTP it writes to the outbox and prints the file.
 */
import { createMailer } from '../../compose/create-mailer.js';
import { EXIT_FAILED, EXIT_OK, UsageError, stringOption, type Command } from '../command.js';
import { loadCliConfig } from '../context.js';

const testCommand: Command = {
  name: 'test',
  summary: 'send a test mail now and report the SMTP outcome',
  help: [
    'Usage: gatekeeper mail test --to ADDRESS',
    '',
    'Sends the "test" template to ADDRESS at once, through GATEKEEPER_SMTP_URL, and prints',
    'the outcome in one line: the recipients accepted and refused and the server response,',
    'or why it failed (connection refused, TLS, authentication). Exit 1 when not delivered.',
    'Without GATEKEEPER_SMTP_URL the mail is written to <GATEKEEPER_DATA_DIR>/outbox and the file is printed.',
  ].join('\n'),
  options: { to: { type: 'string' } },
  async run(args, io) {
    const to = stringOption(args, 'to');
    if (to === undefined || !to.includes('@')) throw new UsageError('--to ADDRESS is required (an email address)');
    const config = loadCliConfig(io);
    const mailer = createMailer(config);
    try {
      const outcome = await mailer.sendNow({ to, template: 'test', values: { link: mailer.link('/') } });
      if (!outcome.ok) {
        io.err(`gatekeeper: mail not sent via ${mailer.destination}: ${outcome.error}`);
        return EXIT_FAILED;
      }
      if (outcome.via === 'outbox') {
        io.out(`written to the outbox: ${outcome.file ?? 'memory (GATEKEEPER_BACKEND=memory keeps no file)'}`);
      } else {
        const rejected = outcome.rejected.length > 0 ? outcome.rejected.join(', ') : 'none';
        io.out(
          `sent via ${mailer.destination}: accepted ${outcome.accepted.join(', ')}; rejected ${rejected}; server: ${outcome.response}`,
        );
      }
      return EXIT_OK;
    } finally {
      await mailer.close(0);
    }
  },
};

export const mailCommand: Command = {
  name: 'mail',
  summary: 'check outgoing mail (test)',
  help: ['Usage: gatekeeper mail <command>', '', 'Outgoing mail: GATEKEEPER_SMTP_URL, or the outbox without it.'].join(
    '\n',
  ),
  options: {},
  subcommands: [testCommand],
};
