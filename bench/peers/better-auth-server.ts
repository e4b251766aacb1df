/**
 * The peer: Better Auth with email+password and its username plugin, on PostgreSQL (its own
 * database on the bench's server), served by a plain node:http server. Its tables come from
 * its own migration API (BA_MIGRATE=1). BA_COOKIE_CACHE=1 turns on the session cookie cache.
 *
 * Fairness: the same pool ceiling as Gatekeeper's default (30 connections), its rate limiter
 * off (Gatekeeper's throttle counts only failures, and the bench never fails a login).
 */
import http from 'node:http';
import pg from 'pg';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { username } from 'better-auth/plugins';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.BA_POOL_MAX ?? 30) });
pool.on('error', () => undefined);

const auth = betterAuth({
  database: pool,
  baseURL: 'http://127.0.0.1',
  secret: process.env.BETTER_AUTH_SECRET ?? 'bench-better-auth-secret-0123456789abcdef',
  emailAndPassword: { enabled: true },
  plugins: [username()],
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  session: process.env.BA_COOKIE_CACHE === '1' ? { cookieCache: { enabled: true, maxAge: 5 * 60 } } : {},
});

if (process.env.BA_MIGRATE === '1') {
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
}

const server = http.createServer(toNodeHandler(auth));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`Better Auth listening on http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
