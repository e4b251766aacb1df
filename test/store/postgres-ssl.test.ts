/**
 * TLS against a real server with a certificate from a throwaway CA (issue 3 point 3). The run's
 * shared server is left alone: this file starts its own embedded cluster, turns SSL on, and
 * stops it at the end. Skipped when `openssl` is not installed.
 */
import { execFileSync } from 'node:child_process';
import { chown, chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SslMode } from '../../src/config.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/postgres/embedded.js';
import { createPool } from '../../src/store/postgres/pool.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';

let dir: string;
let server: EmbeddedPostgres;
let caFile: string;
let otherCaFile: string;

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** The run's cluster URL with another host name (the certificate names only `localhost`). */
const urlFor = (host: string) => {
  const url = new URL(server.url);
  url.hostname = host;
  return url.toString();
};

const settings = (url: string, sslMode: SslMode | null, sslRootCert: string | null = null) => ({
  url,
  sslMode,
  sslRootCert,
  poolSize: 1,
  maxOverflow: 0,
  poolTimeoutSeconds: 10,
  echo: false,
});

async function usesTls(url: string, sslMode: SslMode | null, rootCert: string | null = null): Promise<boolean> {
  const pool = createPool(settings(url, sslMode, rootCert));
  try {
    const { rows } = await pool.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return rows[0]?.ssl === true;
  } finally {
    await pool.end();
  }
}

async function openError(url: string, sslMode: SslMode | null, rootCert: string | null = null): Promise<Error> {
  return openPostgresStore({ database: settings(url, sslMode, rootCert), migrate: false }).then(
    async (store) => {
      await store.close();
      throw new Error('expected the connection to fail');
    },
    (err: Error) => err,
  );
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Waits until `probe` answers true: the server applies a reload asynchronously (pg_reload_conf()
 * only signals the postmaster), so tests wait for its effect rather than for a guessed delay.
 */
async function untilServer(probe: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `SHOW ssl` on a new connection: new backends start with the postmaster's reloaded settings. */
async function sslIsOn(): Promise<boolean> {
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ ssl: string }>('SHOW ssl');
    return rows[0]?.ssl === 'on';
  } finally {
    await client.end();
  }
}

describe('PostgreSQL over TLS (own throwaway server with a test CA)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gk-tls-'));
    server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'cluster'), port: 0 });
    const pgData = path.join(dir, 'cluster', 'pg');

    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=Test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=Other CA',
      '-keyout',
      'other.key',
      '-out',
      'other.crt',
    );
    openssl(
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    await writeFile(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'san.ext',
      '-out',
      'server.crt',
    );
    caFile = path.join(dir, 'ca.crt');
    otherCaFile = path.join(dir, 'other.crt');

    // The server reads its key only if it owns it and nobody else may read it.
    const owner = await stat(pgData);
    for (const name of ['server.crt', 'server.key']) {
      const target = path.join(pgData, name);
      await writeFile(target, await readFile(path.join(dir, name)));
      await chown(target, owner.uid, owner.gid);
      await chmod(target, 0o600);
    }
    await admin('ALTER SYSTEM SET ssl = on');
    await admin('SELECT pg_reload_conf()');
    await untilServer(sslIsOn, 'the server has SSL on');
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sslmode require encrypts without verifying the certificate', async () => {
    expect(await usesTls(urlFor('127.0.0.1'), 'require')).toBe(true);
  });

  it('sslmode disable, prefer and unset connect without TLS', async () => {
    expect(await usesTls(urlFor('127.0.0.1'), 'disable')).toBe(false);
    expect(await usesTls(urlFor('127.0.0.1'), 'prefer')).toBe(false);
    expect(await usesTls(urlFor('127.0.0.1'), null)).toBe(false);
  });

  it('sslmode verify-full accepts the certificate for the host name it was issued to', async () => {
    expect(await usesTls(urlFor('localhost'), 'verify-full', caFile)).toBe(true);
    const store = await openPostgresStore({ database: settings(urlFor('localhost'), 'verify-full', caFile) });
    expect((await store.health()).reachable).toBe(true);
    await store.close();
  });

  it('sslmode in the URL is replaced by the configured mode', async () => {
    expect(await usesTls(`${urlFor('localhost')}?sslmode=disable&sslrootcert=/nowhere`, 'verify-full', caFile)).toBe(
      true,
    );
  });

  it('sslmode verify-full refuses a certificate issued to another host name, verify-ca accepts it', async () => {
    const err = await openError(urlFor('127.0.0.1'), 'verify-full', caFile);
    expect(err).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    expect(err.message).toContain(`the server's TLS certificate is not valid for "127.0.0.1"`);
    expect(await usesTls(urlFor('127.0.0.1'), 'verify-ca', caFile)).toBe(true);
  });

  it('sslmode verify-full refuses a certificate from another CA', async () => {
    const err = await openError(urlFor('localhost'), 'verify-full', otherCaFile);
    expect(err).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    expect(err.message).toMatch(/certificate could not be verified \(\w+\)\. Set POSTGRES_SSLROOTCERT/);
  });

  it('a server that only accepts SSL tells a plain-text client to set POSTGRES_SSLMODE=require', async () => {
    const hba = path.join(dir, 'cluster', 'pg', 'pg_hba.conf');
    const original = await readFile(hba, 'utf8');
    await writeFile(hba, original.replace(/^host(\s)/gm, 'hostssl$1'));
    try {
      await admin('SELECT pg_reload_conf()');
      // Loaded once a plain-text connection is turned away by pg_hba.conf (28000).
      await untilServer(
        () =>
          admin('SELECT 1').then(
            () => false,
            (err: { code?: string }) => err.code === '28000',
          ),
        'the server refuses plain-text connections',
      );
      const err = await openError(urlFor('127.0.0.1'), 'disable');
      expect(err).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
      expect(err.message).toContain('the server requires SSL');
      expect(err.message).toContain('Set POSTGRES_SSLMODE=require');
      expect(await usesTls(urlFor('127.0.0.1'), 'require')).toBe(true);
    } finally {
      await writeFile(hba, original);
      const client = new pg.Client({ connectionString: server.adminUrl, ssl: { rejectUnauthorized: false } });
      await client.connect();
      await client.query('SELECT pg_reload_conf()');
      await client.end();
    }
  });
});
