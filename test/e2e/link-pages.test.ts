/**
 * Issue 15, point 6, for the pages that exist today: GET /verify-email and GET /reset-password,
 * driven in Debian's chromium (test/support/browser.ts) against a Gatekeeper listening on a real
 * port, with the mails from the real SMTP test server. Every page state passes axe-core (no serious or
 * critical violation), keeps the CSP listener silent, and is photographed at desktop and phone width.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STRONG_PASSWORD, startGatekeeper, type TestGatekeeper } from '../support/app.js';
import {
  accessibilityProblems,
  checkAccessibility,
  launchBrowser,
  openPage,
  screenshots,
  type PageSession,
} from '../support/browser.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

/** The base of the mails' links; the test opens the link's path and fragment on the real listener. */
const PUBLIC_URL = 'https://id.example.test';
const NEW_PASSWORD = 'N3w-Passw0rd!x';
const VERIFICATION = /Confirm your email address/;
/** Waits for the page: generous on a loaded 2-core CI box, never a fixed sleep. */
const WAIT = { timeout: 15_000 };

let browser: Browser;
let gk: TestGatekeeper;
let smtp: TestSmtpServer;
let base: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  gk = await startGatekeeper(
    'memory',
    { GATEKEEPER_SMTP_URL: smtp.url(), GATEKEEPER_PUBLIC_URL: PUBLIC_URL },
    { mail: { retryDelaysMs: [10, 10] } },
  );
  await gk.app.listen({ host: '127.0.0.1', port: 0 });
  const address = gk.app.server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await gk?.close();
  await smtp?.stop();
});

let session: PageSession;

beforeEach(async () => {
  session = await openPage(browser);
});

afterEach(async () => {
  await session?.close();
});

async function api(method: string, url: string, body?: unknown, token?: string) {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function loginStatus(username: string, password: string) {
  return api('POST', '/auth/login', { username, password });
}

/**
 * The link of the mail to `address` whose subject matches `subject`, moved from the public URL to the
 * real listener (the page and its fragment as mailed; only the origin differs).
 */
async function linkFromMail(address: string, subject: RegExp, page: string): Promise<string> {
  let text = '';
  await expect
    .poll(
      () => {
        const mail = smtp.received.find((m) => m.to.includes(address) && subject.test(m.mail.subject ?? ''));
        text = mail?.mail.text ?? '';
        return mail !== undefined;
      },
      { timeout: 10_000, interval: 20 },
    )
    .toBe(true);
  const match = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}/${page}#token=[A-Za-z0-9_-]+`).exec(text);
  if (!match) throw new Error(`no ${page} link in the mail to ${address}`);
  const link = new URL(match[0]);
  return `${base}${link.pathname}${link.hash}`;
}

/** What every page state must pass; `name` names its screenshots. */
async function checkPage(page: Page, name: string): Promise<void> {
  await checkAccessibility(page);
  const { phoneOverflow } = await screenshots(page, name);
  expect(phoneOverflow, 'the page scrolls sideways at phone width').toBeLessThanOrEqual(0);
  expect(session.cspViolations).toEqual([]);
  expect(session.pageErrors).toEqual([]);
}

async function statusText(page: Page, pattern: RegExp): Promise<string> {
  const result = page.locator('#status');
  await expect.poll(() => result.textContent(), WAIT).toMatch(pattern);
  return (await result.textContent()) ?? '';
}

async function registerWithEmail(username: string) {
  const email = `${username}@example.test`;
  const registered = await api('POST', '/auth/register', { username, password: STRONG_PASSWORD, email });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  return email;
}

describe('the helpers can fail', () => {
  it('the CSP listener hears a blocked inline script', async () => {
    const { page } = session;
    await page.goto(`${base}/verify-email`);
    // page.evaluate is outside the policy; the <script> it adds to the document is not.
    await page.evaluate(`{
      const script = document.createElement('script');
      script.textContent = 'document.title = "ran"';
      document.body.append(script);
    }`);
    // Heard twice: the page's securitypolicyviolation event, and chromium's console report.
    const heard = () => ({
      event: session.cspViolations.filter((v) => !v.startsWith('console: ')),
      console: session.cspViolations.filter((v) => v.startsWith('console: ')),
    });
    await expect.poll(() => heard().event.length > 0 && heard().console.length > 0, WAIT).toBe(true);
    expect(heard().event.join('\n')).toMatch(/^script-src(-elem)? blocked inline at /m);
    expect(await page.title()).not.toBe('ran');
  });

  it('the accessibility check reports a critical violation, readably', async () => {
    const { page } = session;
    await page.setContent('<!doctype html><html lang="en"><title>t</title><main><h1>t</h1><img src="x.png"></main>');
    const problems = await accessibilityProblems(page);
    expect(problems.join('\n')).toMatch(/\[critical\] image-alt: .*\n {4}at \["img"\]/);
    await expect(checkAccessibility(page)).rejects.toThrow(/serious\/critical violation/);
  });
});

describe('/verify-email in chromium', () => {
  it('the mailed link confirms the address on a click, and the token leaves the address bar', async () => {
    const { page } = session;
    const email = await registerWithEmail('e2e_verify');
    const link = await linkFromMail(email, VERIFICATION, 'verify-email');

    await page.goto(link);
    const button = page.getByRole('button', { name: 'Confirm my email address' });
    await button.waitFor(WAIT);
    expect(await page.evaluate('location.hash')).toBe('');
    expect(page.url()).toBe(`${base}/verify-email`);
    // Opening the link spends nothing: the address is still unconfirmed until the click.
    const tokens = await loginStatus('e2e_verify', STRONG_PASSWORD);
    expect(tokens.status).toBe(200);
    const access = tokens.body.access_token as string;
    expect((await api('GET', '/auth/me', undefined, access)).body.email_verified).toBe(false);
    await checkPage(page, 'verify-email');

    await button.click();
    await statusText(page, new RegExp(`Thank you: ${email} is confirmed as the address of e2e_verify\\.`));
    expect(await page.locator('#verify').isHidden()).toBe(true);
    const me = await api('GET', '/auth/me', undefined, access);
    expect(me.body.email_verified).toBe(true);
    await checkPage(page, 'verify-email-confirmed');
  });

  it('a link without a token explains what to do', async () => {
    const { page } = session;
    await page.goto(`${base}/verify-email`);
    await statusText(page, /This link has no confirmation token\. Open the link from the mail again\./);
    expect(await page.locator('#verify').isHidden()).toBe(true);
    await checkPage(page, 'verify-email-no-token');
  });
});

describe('/reset-password in chromium', () => {
  it('the mailed link sets a new password typed twice; a mismatch is said first; the link is then spent', async () => {
    const { page } = session;
    const email = await registerWithEmail('e2e_reset');
    const forgot = await api('POST', '/auth/password/forgot', { email });
    expect(forgot.status).toBe(202);
    const link = await linkFromMail(email, /password/i, 'reset-password');

    await page.goto(link);
    const password = page.getByLabel('New password', { exact: true });
    const confirm = page.getByLabel('The new password again');
    const submit = page.getByRole('button', { name: 'Change the password' });
    await password.waitFor(WAIT);
    expect(await page.evaluate('location.hash')).toBe('');
    expect(page.url()).toBe(`${base}/reset-password`);
    await checkPage(page, 'reset-password');

    await password.fill(NEW_PASSWORD);
    await confirm.fill(`${NEW_PASSWORD}?`);
    await submit.click();
    await statusText(page, /^The two passwords differ\.$/);
    await checkPage(page, 'reset-password-mismatch');
    // Nothing was sent: the old password still works.
    expect((await loginStatus('e2e_reset', STRONG_PASSWORD)).status).toBe(200);

    await confirm.fill(NEW_PASSWORD);
    await submit.click();
    await statusText(page, /Your password was changed, and every session was signed out\./);
    expect(await page.locator('#reset').isHidden()).toBe(true);
    await checkPage(page, 'reset-password-changed');
    expect((await loginStatus('e2e_reset', NEW_PASSWORD)).status).toBe(200);
    expect((await loginStatus('e2e_reset', STRONG_PASSWORD)).status).toBe(401);

    // The same link again, opened afresh as from the mail (from this very page it would be a
    // same-document fragment change, no load): the page says so, and the password stays.
    await page.goto('about:blank');
    await page.goto(link);
    await password.waitFor(WAIT);
    await password.fill('An0ther-Passw0rd!');
    await confirm.fill('An0ther-Passw0rd!');
    await submit.click();
    await statusText(page, /^This link has expired or was used already\. Ask for a new one on the sign-in page\.$/);
    await checkPage(page, 'reset-password-spent');
    expect((await loginStatus('e2e_reset', NEW_PASSWORD)).status).toBe(200);
  });

  it('a link without a token explains what to do', async () => {
    const { page } = session;
    await page.goto(`${base}/reset-password`);
    await statusText(page, /This link has no reset token\. Open the link from the mail again, or ask for a new one\./);
    expect(await page.locator('#reset').isHidden()).toBe(true);
    await checkPage(page, 'reset-password-no-token');
  });
});
