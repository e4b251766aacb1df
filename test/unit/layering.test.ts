import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layering of docs/ARCHITECTURE.md, checked on the import graph of src/: no cycle, and no
 * arrow from a lower layer to a higher one. A module may import its own layer and those below:
 *
 *   entry (main, cli, composition, the public index) → config → http → auth → security | store → core
 *   library (verifier, express, client: embedded by other apps) → core
 *
 * `config` sits beside the entry points: only they read it; everything below gets options.
 */
const SRC = path.resolve(import.meta.dirname, '../../src');

type Layer = 'entry' | 'config' | 'http' | 'auth' | 'security' | 'store' | 'library' | 'core';

/** Which layers each layer may import (besides its own). */
const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  entry: ['config', 'http', 'auth', 'security', 'store', 'library', 'core'],
  config: ['store', 'core'],
  http: ['auth', 'security', 'core'],
  auth: ['security', 'store', 'core'],
  security: ['core'],
  store: ['core'],
  // What other apps embed without the service: the verifier, the Express middleware, the client.
  library: ['core'],
  core: [],
};

/** HTTP may name the store's record types (a type import is erased), never call the store itself. */
const TYPE_ONLY: Partial<Record<Layer, readonly Layer[]>> = { http: ['store'] };

function layerOf(file: string): Layer {
  const rel = path.relative(SRC, file).split(path.sep).join('/');
  const top = rel.split('/')[0] ?? '';
  if (['main.ts', 'index.ts', 'cli', 'compose'].includes(top)) return 'entry';
  if (top === 'config.ts' || top === 'config') return 'config';
  // The pages (templates, assets) are presentation: the HTTP layer's, and they import no use case.
  if (top === 'ui') return 'http';
  if (top === 'http' || top === 'auth' || top === 'security' || top === 'store' || top === 'core') return top;
  if (top === 'verifier' || top === 'express' || top === 'client') return 'library';
  // errors.ts, version.ts, logger.ts, redaction.ts: the words and tools every layer shares.
  return 'core';
}

interface Arrow {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

// Static imports and re-exports (`import … from`, `export … from`) and dynamic `import('…')`.
const STATIC = /^\s*(import|export)\s+(type\s+)?[^'";]*?\bfrom\s+'(\.[^']+)'/gm;
const DYNAMIC = /\bimport\(\s*'(\.[^']+)'\s*\)/g;

function arrowsOf(file: string): Arrow[] {
  const text = readFileSync(file, 'utf8');
  const resolve = (spec: string) => path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
  const arrows: Arrow[] = [];
  for (const m of text.matchAll(STATIC)) {
    arrows.push({ from: file, to: resolve(m[3] ?? ''), typeOnly: Boolean(m[2]) });
  }
  for (const m of text.matchAll(DYNAMIC)) arrows.push({ from: file, to: resolve(m[1] ?? ''), typeOnly: false });
  return arrows;
}

const files = sourceFiles(SRC);
const arrows = files.flatMap(arrowsOf);
const show = (file: string) => path.relative(SRC, file);

/** Every cycle's members (strongly connected components of more than one module, or a self-import). */
function cycles(): string[][] {
  const next = new Map<string, string[]>();
  for (const a of arrows) next.set(a.from, [...(next.get(a.from) ?? []), a.to]);
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, indexOf.get(w) ?? 0));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) found.push(component.map(show).sort());
    }
  };
  for (const f of files) if (!indexOf.has(f)) visit(f);
  return found;
}

describe('the import graph of src/', () => {
  it('is read: every relative import names a file that exists', () => {
    expect(files.length).toBeGreaterThan(50);
    const missing = arrows.filter((a) => !files.includes(a.to)).map((a) => `${show(a.from)} → ${show(a.to)}`);
    expect(missing).toEqual([]);
  });

  it('has no cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it('has no arrow against the layers', () => {
    const wrong = arrows
      .filter((a) => {
        const from = layerOf(a.from);
        const to = layerOf(a.to);
        if (from === to || MAY_IMPORT[from].includes(to)) return false;
        return !(a.typeOnly && TYPE_ONLY[from]?.includes(to));
      })
      .map((a) => `${show(a.from)} (${layerOf(a.from)}) → ${show(a.to)} (${layerOf(a.to)})`);
    expect(wrong).toEqual([]);
  });

  it('the check itself catches a wrong arrow and a cycle', () => {
    // Guards the guard: a layer map that allowed everything would pass the tests above vacuously.
    expect(MAY_IMPORT.core).toEqual([]);
    expect(MAY_IMPORT.security).not.toContain('store');
    expect(layerOf(path.join(SRC, 'security/tokens.ts'))).toBe('security');
    expect(layerOf(path.join(SRC, 'cli/main.ts'))).toBe('entry');
    expect(arrows.some((a) => layerOf(a.from) === 'http' && layerOf(a.to) === 'auth')).toBe(true);
  });
});
