/**
 * The tests that start processes run what users run: `npm start` and bin/gatekeeper.js
 * execute the compiled dist/. Built once per run, incrementally (a few seconds when
 * nothing changed), so those tests never see a stale build.
 */
import { execFileSync } from 'node:child_process';
import { ROOT } from './process.js';

export default function setup(): void {
  const started = performance.now();
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  console.log(`[tests] dist/ built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
