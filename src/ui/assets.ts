/**
 * The pages' scripts and styles (src/ui/assets/, copied to dist/ui/assets/ by the build): read once
 * at start, served from /ui/assets/<name>.<content hash>.<ext> with a year-long immutable cache,
 * since a changed file gets a new name. The theme (the accent colour) is a generated stylesheet of
 * its own, so no page needs an inline style.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ASSET_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');
export const ASSET_PREFIX = '/ui/assets/';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  /** The name pages ask for, e.g. `account.js`. */
  name: string;
  /** The served path, e.g. `/ui/assets/account.3f9a0c1d2e.js`. */
  url: string;
  type: string;
  body: Buffer;
}

export class AssetCatalog {
  readonly #byName = new Map<string, Asset>();
  readonly #byUrl = new Map<string, Asset>();

  /** Every file of `dir` plus `generated` ones (name → text). */
  constructor(dir: string, generated: Record<string, string> = {}) {
    const files: [string, Buffer][] = readdirSync(dir)
      .filter((name) => TYPES[path.extname(name)] !== undefined)
      .map((name) => [name, readFileSync(path.join(dir, name))]);
    for (const [name, text] of Object.entries(generated)) files.push([name, Buffer.from(text)]);
    for (const [name, body] of files) {
      const extension = path.extname(name);
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
      const asset: Asset = {
        name,
        url: `${ASSET_PREFIX}${path.basename(name, extension)}.${hash}${extension}`,
        type: TYPES[extension]!,
        body,
      };
      this.#byName.set(name, asset);
      this.#byUrl.set(asset.url, asset);
    }
  }

  /** The served URL of `name`; a missing asset is a programming error. */
  url(name: string): string {
    const asset = this.#byName.get(name);
    if (!asset) throw new Error(`no UI asset named ${name}`);
    return asset.url;
  }

  byUrl(url: string): Asset | undefined {
    return this.#byUrl.get(url);
  }
}

/** The accent colour as a stylesheet (validated as #rgb/#rrggbb by src/config.ts). */
export function themeStylesheet(accent: string): string {
  return `:root{--accent:${accent}}\n`;
}
