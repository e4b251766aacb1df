import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGatekeeper } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ROOT } from '../support/process.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** Packages and src/ files reachable from `entry` by static (non-type) imports; dynamic import() is on demand. */
function staticGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?\bfrom\s+'([^']+)'/gm)) {
      const spec = m[1] ?? '';
      if (spec.startsWith('.')) walk(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  walk(path.join(ROOT, entry));
  return { files: [...files].map((f) => path.relative(ROOT, f)), packages: [...packages] };
}

describe('composition apart from running', { timeout: 60_000 }, () => {
  it('importing src/main.ts starts nothing: the process ends by itself', async () => {
    const run = promisify(execFile);
    const script = "await import('./src/main.ts'); console.log('imported');";
    const env = { PATH: process.env.PATH ?? '', GATEKEEPER_BACKEND: 'memory', PORT: '0', LOG_LEVEL: 'info' };
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env,
      timeout: 30_000,
    });
    expect(stdout.trim()).toBe('imported');
    expect(stdout + stderr).not.toContain('listening');
  });

  it('the CLI loads no HTTP stack: only `serve` imports src/main.ts, on demand', () => {
    const { files, packages } = staticGraph('src/cli/main.ts');
    expect(files).toContain('src/cli/commands/users.ts');
    expect(files).toContain('src/compose/create-service.ts');
    expect(packages).not.toContain('fastify');
    expect(files).not.toContain('src/http/app.ts');
    expect(files).not.toContain('src/compose/build-gatekeeper.ts');
    expect(files).not.toContain('src/main.ts');
  });

  it('a users command creates no bootstrap admin: that is the running service’s job', async () => {
    const env = {
      DATABASE_URL: db.url,
      GATEKEEPER_SECRET_KEY: 'composition-test-secret-key-long-enough-0123',
      GATEKEEPER_ADMIN_USERNAME: 'bootstrap',
      GATEKEEPER_ADMIN_PASSWORD: 'B00tstrap-Secret!',
    };
    const listed = await runGatekeeper(['users', 'list'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('0 of 0 users');
  });
});
