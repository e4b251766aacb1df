/**
 * `gatekeeper serve`: exactly `npm start`, by calling the same main() of
 * src/main.ts; its own exit codes apply (2 for a bad setting, 1 when the database
 * cannot be used). Loaded on demand, so other commands never load the HTTP stack.
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
    const { main } = await import('../../main.js');
    await main();
    return 'running';
  },
};
