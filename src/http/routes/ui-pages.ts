/**
 * The pages for people (GATEKEEPER_UI): each page of src/ui/pages/ at its path, their assets under
 * /ui/assets/, and `/` leading to the account page. Pages are not part of the OpenAPI document.
 *
 * Every page carries one strict policy: scripts, styles, images and requests from this origin only
 * (the logo's origin for images, when GATEKEEPER_UI_LOGO_URL is elsewhere), no inline script or
 * style, no framing, forms posting nowhere else.
 */
import type { FastifyInstance } from 'fastify';
import { AssetCatalog, ASSET_DIR, ASSET_PREFIX, themeStylesheet } from '../../ui/assets.js';
import { renderPage, type UiSettings } from '../../ui/page.js';
import { PAGES } from '../../ui/pages/index.js';
import { safeReturnTo } from '../../ui/return-to.js';

/** A year: the file name changes with its content, so the cached copy never goes stale. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

export function pagePolicy(settings: UiSettings): string {
  const logoOrigin = settings.logoUrl?.startsWith('https://') ? ` ${new URL(settings.logoUrl).origin}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self'${logoOrigin}`,
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function registerUiPages(app: FastifyInstance, settings: UiSettings): void {
  const assets = new AssetCatalog(ASSET_DIR, { 'theme.css': themeStylesheet(settings.accent) });
  const policy = pagePolicy(settings);

  app.get(`${ASSET_PREFIX}:file`, { schema: { hide: true } }, async (request, reply) => {
    const asset = assets.byUrl(request.url.split('?')[0]!);
    if (!asset)
      return reply.code(404).header('cache-control', 'no-store').send({ detail: 'No such file.', code: 'NOT_FOUND' });
    return reply
      .header('content-type', asset.type)
      .header('cache-control', IMMUTABLE)
      .header('cross-origin-resource-policy', 'same-origin')
      .send(asset.body);
  });

  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/account', 303));

  for (const page of PAGES) {
    if (page.needsRegistration && !settings.allowRegistration) continue;
    app.get(page.path, { schema: { hide: true } }, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const returnTo = safeReturnTo(query.return_to, settings.returnToOrigins);
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', policy)
        .header('cache-control', 'no-store')
        .send(renderPage(page, { settings, returnTo }, assets));
    });
  }
}
