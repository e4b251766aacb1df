/**
 * `gatekeeper serve`: exactly `npm start`. src/main.ts starts the service when it
 * is loaded, so loading it is the whole command; its own exit codes apply
 * (2 for a bad setting, 1 when the database cannot be used).
 */
import type { Command } from '../command.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'start the HTTP service (the same as npm start)',
  help: [
    'Usage: gatekeeper serve',
    '',
    'Starts the service as `npm start` does: configuration from the environment',
    '(HOST, PORT, DATABASE_URL, POSTGRES_*, GATEKEEPER_*), pending migrations applied,',
    'a clean stop on SIGINT/SIGTERM.',
  ].join('\n'),
  options: {},
  async run() {
    await import('../../main.js');
    return 'running';
  },
};
