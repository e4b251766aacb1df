#!/usr/bin/env node
/**
 * Runs before `npm test` (the "pretest" script): the browser tests (test/e2e/) need Debian's
 * chromium, which no npm package may download here. When it is missing and this is a Debian
 * machine where we are root (a fresh CI or container image), it is installed with apt-get, so
 * `npm test` works on a fresh machine as the README promises; otherwise this says what to do and
 * leaves the browser tests to fail with the same instruction. Never a step without a deadline.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);

const hasAptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (process.env.CHROMIUM_PATH || !hasAptGet || !root) {
  console.error(
    `pretest: no chromium at ${path}; the browser tests (test/e2e/) will fail until it is installed ` +
      '(Debian: `sudo apt-get install chromium`) or CHROMIUM_PATH names a Chromium binary.',
  );
  process.exit(0);
}

console.error('pretest: chromium is missing; installing Debian\'s chromium with apt-get for the browser tests');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const apt = (args, timeout) => execFileSync('apt-get', args, { stdio: 'inherit', env, timeout });
try {
  apt(['update'], 300_000);
  apt(['install', '-y', '--no-install-recommends', 'chromium'], 900_000);
} catch (err) {
  console.error(`pretest: apt-get could not install chromium (${err.message}); the browser tests will fail`);
}
