/**
 * The README's library snippets are the first part of the files under examples/, which
 * `npm run examples` runs against the packed tarball: a snippet that drifts from its
 * example (and so is no longer what CI ran) fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

const CHECKS_MARKER = '// ---- checks (not in the README) ----';
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const snippets = [...readme.matchAll(/<!-- snippet: (\S+) -->\n```js\n([\s\S]*?)```/g)].map((m) => ({
  file: m[1]!,
  code: m[2]!,
}));

describe('README library snippets', () => {
  it('there are snippets, and every example with a README part has one', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(4);
    const examples = readdirSync(path.join(ROOT, 'examples'), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.mjs'))
      .filter((file) => readFileSync(path.join(ROOT, 'examples', file), 'utf8').includes(CHECKS_MARKER))
      .map((file) => `examples/${file}`);
    expect(snippets.map((s) => s.file).sort()).toEqual(examples.sort());
  });

  it.each(snippets)('$file: the README shows exactly the part before its checks', ({ file, code }) => {
    const source = readFileSync(path.join(ROOT, file), 'utf8');
    const cut = source.indexOf(CHECKS_MARKER);
    expect(cut).toBeGreaterThan(0);
    expect(code).toBe(source.slice(0, cut));
  });
});
