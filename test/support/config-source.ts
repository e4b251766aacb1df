import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './process.js';

/**
 * The text of the configuration's sources, src/config.ts and its helpers in
 * src/config/, for tests that check docs and compose files name every variable read.
 */
export async function configSource(): Promise<string> {
  const helpers = (await readdir(path.join(ROOT, 'src/config'))).filter((f) => f.endsWith('.ts')).sort();
  const files = ['src/config.ts', ...helpers.map((f) => `src/config/${f}`)];
  const texts = await Promise.all(files.map((file) => readFile(path.join(ROOT, file), 'utf8')));
  return texts.join('\n');
}
