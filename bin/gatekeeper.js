#!/usr/bin/env node
// The `gatekeeper` command of package.json "bin". It runs the TypeScript sources through tsx,
// so `npx gatekeeper …` works on a fresh clone without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
