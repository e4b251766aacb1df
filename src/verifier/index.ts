/**
 * Verifying Gatekeeper access tokens in other services, without Gatekeeper's store.
 *
 * @example
 * import { createVerifier, bearerToken } from '@reynard/gatekeeper/verifier';
 *
 * const verifier = createVerifier({
 *   jwksUrl: 'https://auth.example.com/.well-known/jwks.json',
 *   issuer: 'https://auth.example.com',
 *   audience: 'orders',
 * });
 * const user = await verifier.verify(bearerToken(request.headers.authorization));
 * if (user.role !== 'admin') throw new Error('admins only');
 *
 * @module
 */
export { createVerifier } from './create-verifier.js';
export { bearerToken } from './bearer.js';
export type { FetchLike, IntrospectionOptions, KeySource, VerifiedToken, Verifier, VerifierOptions } from './types.js';
