/**
 * No Docker engine runs on the development and CI machines, so the Docker files are
 * checked by parsing: services, ports, volumes, healthchecks, a non-root user, and
 * environment variables that the configuration module really reads.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GATEKEEPER_NODE_FLAGS } from '../../bench/lib/process.js';
import { configSource } from '../support/config-source.js';
import { ROOT } from '../support/process.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const read = (file: string) => readFile(path.join(ROOT, file), 'utf8');
const compose = async (file: string) => parse(await read(file)) as ComposeFile;

/** Every variable src/config.ts (and src/config/) reads (`read.raw('NAME')`, `read.whole('NAME', …)`, …). */
async function configVariables(): Promise<Set<string>> {
  const source = await configSource();
  return new Set([...source.matchAll(/\bread\.\w+\(\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1] ?? ''));
}

function expectPostgresService(service: ComposeService | undefined, volumes: ComposeFile['volumes']) {
  expect(service?.image).toMatch(/^postgres:(15|16)(-alpine)?$/);
  expect(service?.environment).toMatchObject({
    POSTGRES_USER: 'reynard',
    POSTGRES_PASSWORD: 'reynard',
    POSTGRES_DB: 'reynard',
  });
  const [volume] = service?.volumes ?? [];
  const [name, mountPoint] = (volume ?? '').split(':');
  expect(mountPoint).toBe('/var/lib/postgresql/data');
  expect(Object.keys(volumes ?? {})).toContain(name); // a named volume: data survives `docker compose down`
  expect(JSON.stringify(service?.healthcheck?.test)).toContain('pg_isready -U reynard -d reynard');
}

describe('Docker files (parsed, not run)', () => {
  it('docker-compose.postgres.yml is the seed file: postgres with reynard/reynard/reynard on port 5432', async () => {
    const file = await compose('docker-compose.postgres.yml');
    expect(Object.keys(file.services)).toEqual(['postgres']);
    expectPostgresService(file.services.postgres, file.volumes);
    expect(file.services.postgres?.ports).toEqual(['127.0.0.1:5432:5432']);
  });

  it('docker-compose.yml runs gatekeeper against the postgres service once it is healthy', async () => {
    const file = await compose('docker-compose.yml');
    const known = await configVariables();
    expectPostgresService(file.services.postgres, file.volumes);
    const gatekeeper = file.services.gatekeeper;
    expect(gatekeeper?.build).toBe('.');
    expect(gatekeeper?.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(gatekeeper?.ports).toEqual(['127.0.0.1:8000:8000']);
    const env = gatekeeper?.environment ?? {};
    for (const name of Object.keys(env)) expect(known, `${name} is not read by src/config.ts`).toContain(name);
    const url = new URL(env.DATABASE_URL ?? '');
    expect([url.hostname, url.port, url.username, url.pathname]).toEqual(['postgres', '5432', 'reynard', '/reynard']);
    expect(env.HOST).toBe('0.0.0.0');
  });

  it('the Dockerfile runs as a non-root user with production dependencies and a /health check', async () => {
    const lines = (await read('Dockerfile'))
      .replace(/\\\n\s*/g, ' ') // join continuation lines
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
    const instruction = (name: string) =>
      lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1));
    // Two stages: one compiles, the image that runs holds compiled JavaScript and production dependencies.
    expect(instruction('FROM')).toEqual(['node:20-slim AS build', 'node:20-slim']);
    const runs = instruction('RUN').join('\n');
    expect(runs).toContain('npm ci');
    expect(runs).toContain('npm prune --omit=dev');
    const user = instruction('USER').at(-1);
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(instruction('EXPOSE')).toEqual(['8000']);
    expect(instruction('ENV').join(' ')).toContain('HOST=0.0.0.0');
    const healthcheck = instruction('HEALTHCHECK').join(' ');
    expect(healthcheck).toContain('fetch(');
    expect(healthcheck).toContain('/health');
    expect(JSON.parse(instruction('CMD').at(-1) ?? '[]')).toEqual([
      'node',
      '--max-semi-space-size=4',
      '--heap-growing-percent=30',
      'dist/main.js',
    ]);
    // No TypeScript at run time: tsx is a development dependency only.
    const pkg = JSON.parse(await read('package.json')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(Object.keys(pkg.devDependencies)).toContain('tsx');
    const runtimeCopies = instruction('COPY').filter((c) => c.startsWith('--from=build'));
    expect(runtimeCopies.map((c) => c.split(' ')[1])).toEqual(
      expect.arrayContaining(['/app/package.json', '/app/node_modules', '/app/dist']),
    );
    expect(instruction('COPY').some((c) => c.startsWith('src '))).toBe(true); // only into the build stage
  });

  it('.dockerignore keeps local data, exports with password hashes and node_modules out of the image', async () => {
    const ignored = (await read('.dockerignore')).split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'data', '*.jsonl', '.git']));
  });
});

describe('node flags of the service', () => {
  it('npm start, the Docker image and the bench run Gatekeeper with the same V8 flags', async () => {
    const scripts = (JSON.parse(await read('package.json')) as { scripts: Record<string, string> }).scripts;
    const startFlags = (scripts['start'] ?? '').split(' ').filter((word) => /^--(max|heap)-/.test(word));
    expect(startFlags).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=30']);
    const cmd = /^CMD (\[.*\])$/m.exec(await read('Dockerfile'))?.[1];
    const dockerFlags = (JSON.parse(cmd ?? '[]') as string[]).filter((word) => /^--(max|heap)-/.test(word));
    expect(dockerFlags).toEqual(startFlags);
    expect(GATEKEEPER_NODE_FLAGS).toEqual(startFlags);
  });
});
