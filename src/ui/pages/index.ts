/** Every page, in one list (src/http/routes/ui-pages.ts serves them). */
import type { PageDefinition } from '../page.js';
import { ACCOUNT_PAGES } from './account.js';
import { ADMIN_PAGES } from './admin.js';
import { LINK_PAGES } from './links.js';
import { SIGN_IN_PAGES } from './sign-in.js';

export const PAGES: readonly PageDefinition[] = [...SIGN_IN_PAGES, ...LINK_PAGES, ...ACCOUNT_PAGES, ...ADMIN_PAGES];
