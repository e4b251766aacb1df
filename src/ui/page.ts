/**
 * What a page is (a path, a title, its body's markup and its one script) and the shell every page
 * shares: header with the product's name and logo, a skip link, the stylesheets and scripts by their
 * hashed URLs. No inline script or style anywhere: the CSP (src/http/routes/ui-pages.ts) forbids both.
 */
import type { AssetCatalog } from './assets.js';
import { html, type Markup } from './html.js';

/** The operator's choices the pages show (src/config.ts UiConfig, plus the product name and registration). */
export interface UiSettings {
  productName: string;
  logoUrl: string | null;
  accent: string;
  allowRegistration: boolean;
  /** Origins `return_to` may lead to besides a path here: GATEKEEPER_PUBLIC_URL's and GATEKEEPER_RETURN_TO_ORIGINS. */
  returnToOrigins: readonly string[];
}

export interface PageContext {
  settings: UiSettings;
  /** The request's `return_to`, already checked by safeReturnTo (null: none or refused). */
  returnTo: string | null;
}

export interface PageDefinition {
  path: string;
  title: string;
  /** The asset (src/ui/assets/) with the page's behaviour. */
  script: string;
  /** Pages for signed-in people get the navigation (account, admin, sign out). */
  signedIn: boolean;
  /** Served only when self-registration is open (GATEKEEPER_ALLOW_REGISTRATION). */
  needsRegistration?: boolean;
  body(context: PageContext): Markup;
}

export function renderPage(page: PageDefinition, context: PageContext, assets: AssetCatalog): string {
  const { settings } = context;
  const title = `${page.title} · ${settings.productName}`;
  const nav = page.signedIn
    ? html`<nav aria-label="Main" class="site-nav">
        <a href="/account">Account</a>
        <a href="/admin" id="nav-admin" hidden>Admin console</a>
        <button type="button" id="sign-out" class="link-button">Sign out</button>
      </nav>`
    : '';
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="color-scheme" content="light dark" />
        <title>${title}</title>
        <link rel="stylesheet" href="${assets.url('ui.css')}" />
        <link rel="stylesheet" href="${assets.url('theme.css')}" />
        <script src="${assets.url('gatekeeper.js')}" defer></script>
        <script src="${assets.url(page.script)}" defer></script>
      </head>
      <body
        data-return-to="${context.returnTo ?? ''}"
        data-registration="${String(settings.allowRegistration)}"
        data-product="${settings.productName}"
      >
        <a class="skip-link" href="#main">Skip to the content</a>
        <header class="site-header">
          <a class="brand" href="/"
            >${settings.logoUrl ? html`<img src="${settings.logoUrl}" alt="" class="logo" />` : ''}<span
              >${settings.productName}</span
            ></a
          >
          ${nav}
        </header>
        <main id="main" tabindex="-1">
          <h1>${page.title}</h1>
          ${page.body(context)}
        </main>
      </body>
    </html> `.text;
}
