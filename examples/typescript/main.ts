// The package's declarations, as a TypeScript project sees them (checked with tsc --noEmit).
import Fastify from 'fastify';
import {
  createGatekeeper,
  gatekeeper,
  GatekeeperError,
  type ErrorCode,
  type Gatekeeper,
  type Role,
} from '@reynard/gatekeeper';
import { GatekeeperClient, type UserPublic } from '@reynard/gatekeeper/client';
import { requireAuth, type AuthenticatedRequest } from '@reynard/gatekeeper/express';
import { createVerifier, type VerifiedToken } from '@reynard/gatekeeper/verifier';

export async function embedded(): Promise<Gatekeeper> {
  return createGatekeeper({ database: { memory: true } });
}

export async function plugin(): Promise<void> {
  const app = Fastify();
  await app.register(gatekeeper, { prefix: '/auth', database: 'postgres://localhost/app' });
  app.get('/me', { preHandler: app.authenticate }, async (request) => request.user?.username);
  app.get('/admin', { preHandler: app.requireRole('admin' satisfies Role) }, async () => 'ok');
}

export async function verify(token: string): Promise<VerifiedToken> {
  const verifier = createVerifier({ jwksUrl: 'https://auth.example.com/.well-known/jwks.json', audience: 'orders' });
  return verifier.verify(token);
}

export const middleware = requireAuth({ secret: 'a-shared-secret-of-at-least-32-characters' });
export const owner = (req: AuthenticatedRequest): string => req.user.username;

export async function me(client: GatekeeperClient): Promise<UserPublic> {
  return client.me();
}

export function codeOf(err: unknown): ErrorCode | null {
  return err instanceof GatekeeperError ? err.code : null;
}
