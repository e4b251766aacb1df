/** /admin: the admin console (users, audit trail, stats), all through the admin JSON API. */
import { html } from '../html.js';
import type { PageDefinition } from '../page.js';

export const ADMIN_PAGES: PageDefinition[] = [
  {
    path: '/admin',
    title: 'Admin console',
    script: 'admin.js',
    signedIn: true,
    body: () => html`<p id="status" class="status" role="status" aria-live="polite" hidden></p>`,
  },
];
