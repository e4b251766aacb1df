/** The pages for signing in: /login (with its MFA step, also at /mfa), /register, /forgot-password. */
import { html } from '../html.js';
import type { PageDefinition } from '../page.js';

export const SIGN_IN_PAGES: PageDefinition[] = [
  {
    path: '/login',
    title: 'Sign in',
    script: 'sign-in.js',
    signedIn: false,
    body: () => html`<p id="status" class="status" role="status" aria-live="polite" hidden></p>`,
  },
];
