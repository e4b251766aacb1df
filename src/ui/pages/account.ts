/** /account: the signed-in person's own profile, password, email, second factor and sessions. */
import { html } from '../html.js';
import type { PageDefinition } from '../page.js';

export const ACCOUNT_PAGES: PageDefinition[] = [
  {
    path: '/account',
    title: 'Your account',
    script: 'account.js',
    signedIn: true,
    body: () => html`<p id="status" class="status" role="status" aria-live="polite" hidden></p>`,
  },
];
