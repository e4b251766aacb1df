/**
 * The browser tests' driver (issue 15, point 6): Debian's chromium, driven by playwright-core (no
 * browser download: CHROMIUM_PATH or /usr/bin/chromium, which .ci/run installs with apt-get), with
 * what every page must pass: a Content-Security-Policy listener that must stay silent, axe-core with
 * no serious or critical violation, and screenshots at desktop and phone width for a person to look at.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Git-ignored (.gitignore: test-results/); each run overwrites the previous pictures. */
export const SCREENSHOT_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../test-results/screenshots',
);

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * Launches headless chromium. A missing browser fails the run with the fix in the message: a skipped
 * browser test would let a page break unnoticed.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The browser tests need chromium at ${CHROMIUM_PATH}, and it is not there: install it with ` +
        '`apt-get install chromium` (Debian), or point CHROMIUM_PATH at a Chromium binary.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // No sandbox: CI runs as root in a container. The rest keeps the browser off the network and quiet.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface PageSession {
  context: BrowserContext;
  page: Page;
  /** CSP violations seen so far (securitypolicyviolation events and console reports), across navigations. */
  cspViolations: string[];
  /** Uncaught script errors on the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

const VIOLATION_BINDING = '__gatekeeperCspViolation';

/** A fresh context (no cookies, no storage from another test) with the listeners attached. */
export async function openPage(browser: Browser): Promise<PageSession> {
  const context = await browser.newContext({ viewport: DESKTOP });
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  // A binding (CDP, not a script in the page) reports each event to the test: it survives navigations,
  // and neither it nor the init script is subject to the page's CSP.
  await context.exposeBinding(VIOLATION_BINDING, (_source, report: string) => void cspViolations.push(report));
  // In-page code is a string: it runs in the browser, and this project compiles without the DOM types.
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => {
    window.${VIOLATION_BINDING}(event.violatedDirective + ' blocked ' + (event.blockedURI || '(inline)') +
      ' at ' + (event.sourceFile || event.documentURI) + ':' + event.lineNumber);
  });`);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) cspViolations.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => void pageErrors.push(error.message));
  return { context, page, cspViolations, pageErrors, close: () => context.close() };
}

const requireHere = createRequire(import.meta.url);
let axeSource: string | undefined;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** The serious and critical axe-core violations of the page as it is now, one readable block each. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  axeSource ??= await readFile(path.join(path.dirname(requireHere.resolve('axe-core')), 'axe.min.js'), 'utf8');
  // page.evaluate runs in the main world through CDP, past the page's CSP (which refuses any script
  // tag addScriptTag would add); the page's own policy is what the test checks, not what axe needs.
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource);
  const violations = (await page.evaluate(`axe.run(document).then((result) => result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
  })))`)) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
        v.nodes
          .map((n) => `    at ${JSON.stringify(n.target)}: ${(n.failureSummary ?? '').replace(/\n/g, ' ')}`)
          .join('\n'),
    );
}

/** Fails, listing them, when the page has a serious or critical accessibility violation. */
export async function checkAccessibility(page: Page): Promise<void> {
  const problems = await accessibilityProblems(page);
  if (problems.length > 0) {
    throw new Error(
      `axe-core: ${problems.length} serious/critical violation(s) on ${page.url()}:\n${problems.join('\n')}`,
    );
  }
}

/**
 * Writes <name>-desktop.png (1280×800) and <name>-phone.png (390×844), full page, and gives whether
 * the phone-width layout scrolls sideways (it must not). Leaves the page at desktop size.
 */
export async function screenshots(page: Page, name: string): Promise<{ phoneOverflow: number }> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-phone.png`), fullPage: true });
  const phoneOverflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
  await page.setViewportSize(DESKTOP);
  return { phoneOverflow };
}
