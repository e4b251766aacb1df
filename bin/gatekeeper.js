#!/usr/bin/env node
// The `gatekeeper` command of package.json "bin": the compiled CLI (npm install builds it in a
// clone, through the "prepare" script; the published package ships it in dist/).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('gatekeeper: dist/ is missing; run `npm run build` first (npm install does it).\n');
  process.exit(1);
}
await import(cli.href);
