#!/usr/bin/env node
// `npm run examples`: what a newcomer does with the published package, on the packed tarball.
// Packs the package (which builds it), checks what the tarball holds, installs it with the
// examples' own dependencies in a fresh folder outside the source tree, starts a Gatekeeper from
// the tarball's `gatekeeper` bin, and runs every example against it. Exit 1 if any fails.
import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = path.join(ROOT, 'examples');
const STEP_TIMEOUT_MS = 120_000;

const log = (line) => process.stdout.write(`[examples] ${line}\n`);

async function sh(command, args, options = {}) {
  const { stdout } = await run(command, args, { maxBuffer: 64 * 1024 * 1024, timeout: 600_000, ...options });
  return stdout;
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What must and must not be in the tarball. */
function checkContents(files) {
  const problems = [];
  for (const needed of [
    'package/package.json',
    'package/README.md',
    'package/LICENSE',
    'package/bin/gatekeeper.js',
    'package/dist/index.js',
    'package/dist/index.d.ts',
    'package/dist/main.js',
    'package/dist/verifier/index.js',
    'package/dist/express/index.js',
    'package/dist/client/index.js',
    'package/dist/store/postgres/migrations/0001_users.sql',
  ]) {
    if (!files.includes(needed)) problems.push(`missing ${needed}`);
  }
  for (const file of files) {
    if (/^package\/(src|test|bench|examples|scripts|\.ci|data)\//.test(file)) problems.push(`should not ship ${file}`);
    if (file.endsWith('.tsbuildinfo') || file.endsWith('.test.js')) problems.push(`should not ship ${file}`);
  }
  return problems;
}

async function waitForHealth(url, child, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gatekeeper exited with ${child.exitCode}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no answer from ${url} within ${deadlineMs} ms`);
}

/** A client for the verifier example, created as an admin would: POST /auth/clients. */
async function introspectionClient(base) {
  const post = async (path, body, headers = {}) => {
    const response = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const admin = await post('/auth/login', { username: 'example_admin', password: 'Adm1n-Secret!' });
  return post('/auth/clients', { name: 'Examples' }, { authorization: `Bearer ${admin.access_token}` });
}

const work = await mkdtemp(path.join(os.tmpdir(), 'gatekeeper-examples-'));
let server;
const failures = [];
try {
  log('npm pack (builds dist/ first)');
  const [packed] = JSON.parse(await sh('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT }));
  const tarball = path.join(work, packed.filename);
  const files = (await sh('tar', ['-tzf', tarball])).split('\n').filter(Boolean);
  log(`${packed.filename}: ${files.length} files, ${(packed.size / 1024).toFixed(0)} KiB`);
  const problems = checkContents(files);
  if (problems.length > 0) failures.push(`tarball: ${problems.join('; ')}`);

  const app = path.join(work, 'app');
  await cp(EXAMPLES, app, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8'));
  manifest.dependencies['@reynard/gatekeeper'] = `file:${tarball}`;
  await writeFile(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  log(`npm install in ${app} (the tarball and the examples' dependencies, from the registry)`);
  await sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });

  const port = await freePort();
  const gatekeeperUrl = `http://127.0.0.1:${port}`;
  server = spawn(path.join(app, 'node_modules', '.bin', 'gatekeeper'), ['serve'], {
    cwd: app,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? os.homedir(),
      HOST: '127.0.0.1',
      PORT: String(port),
      GATEKEEPER_BACKEND: 'memory',
      GATEKEEPER_JWT_ALGORITHM: 'EdDSA',
      GATEKEEPER_ADMIN_USERNAME: 'example_admin',
      GATEKEEPER_ADMIN_PASSWORD: 'Adm1n-Secret!',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForHealth(`${gatekeeperUrl}/health/live`, server, 60_000);
  log(`gatekeeper (from the tarball's bin) at ${gatekeeperUrl}`);
  const client = await introspectionClient(gatekeeperUrl);

  const steps = [
    ['library', process.execPath, ['library/main.mjs']],
    ['library (embedded)', process.execPath, ['library/embedded.mjs']],
    ['fastify-plugin', process.execPath, ['fastify-plugin/main.mjs']],
    ['express', process.execPath, ['express/main.mjs']],
    ['client', process.execPath, ['client/main.mjs']],
    ['verifier (introspection)', process.execPath, ['verifier/main.mjs']],
    ['typescript', process.execPath, [path.join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'typescript']],
  ];
  for (const [name, command, args] of steps) {
    const started = Date.now();
    try {
      const out = await sh(command, args, {
        cwd: app,
        timeout: STEP_TIMEOUT_MS,
        env: {
          ...process.env,
          GATEKEEPER_URL: gatekeeperUrl,
          PORT: '0',
          LOG_LEVEL: 'warn',
          GATEKEEPER_ADMIN_USERNAME: 'example_admin',
          GATEKEEPER_ADMIN_PASSWORD: 'Adm1n-Secret!',
          GATEKEEPER_CLIENT_ID: client.client_id,
          GATEKEEPER_CLIENT_SECRET: client.client_secret,
        },
      });
      log(`${name}: passed in ${Date.now() - started} ms ${out.trim() ? `(${out.trim().split('\n').at(-1)})` : ''}`);
    } catch (err) {
      failures.push(`${name}: ${(err.stderr || err.stdout || err.message).toString().trim()}`);
      log(`${name}: FAILED`);
    }
  }
} catch (err) {
  failures.push(err.stderr?.toString() || err.message);
} finally {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  }
  if (!process.env.KEEP_EXAMPLES) await rm(work, { recursive: true, force: true });
}
if (failures.length > 0) {
  process.stderr.write(`[examples] ${failures.length} failed:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
  process.exit(1);
}
log('all examples passed');
