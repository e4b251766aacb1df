/**
 * A typed client of Gatekeeper's HTTP API for Node 20 and browsers (the global `fetch`, no Node
 * modules). Types are the wire's, in snake_case.
 *
 * @example
 * import { GatekeeperClient, GatekeeperClientError } from '@reynard/gatekeeper/client';
 *
 * const client = new GatekeeperClient({ baseUrl: 'https://auth.example.com' });
 * try {
 *   await client.login({ username: 'alice', password: 'Sup3r-Secret!' });
 *   console.log((await client.me()).username);
 * } catch (err) {
 *   if (err instanceof GatekeeperClientError && err.code === 'INVALID_CREDENTIALS') showLoginError();
 *   else throw err;
 * }
 *
 * @module
 */
export { GatekeeperClient, type GatekeeperClientOptions } from './client.js';
export { GatekeeperClientError, type ClientErrorCode, type ClientErrorInit } from './errors.js';
export type { ClientFetch } from './session.js';
export type * from './types.js';
