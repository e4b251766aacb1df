/**
 * Issue 15: the sign-in pages (/login with its MFA step, /register, /forgot-password) in Debian's
 * chromium against a Gatekeeper on a real port, with the mails from the real SMTP test server. Every
 * page state passes axe-core, keeps the CSP listener and the page-error list silent, and is
 * photographed at desktop and phone width.
 */
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STRONG_PASSWORD, startGatekeeper, type TestGatekeeper } from '../support/app.js';
import { checkAccessibility, launchBrowser, openPage, screenshots, type PageSession } from '../support/browser.js';
import { testClock, type TestClock } from '../support/clock.js';
import { mailsTo, startSmtpServer, VERIFICATION_SUBJECT, type TestSmtpServer } from '../support/smtp.js';

const PUBLIC_URL = 'https://id.example.test';
const NEW_PASSWORD = 'N3w-Passw0rd!x';
/** Waits for the page: generous on a loaded 2-core CI box, never a fixed sleep. */
const WAIT = { timeout: 15_000 };

let browser: Browser;
let smtp: TestSmtpServer;

interface Listening {
  gk: TestGatekeeper;
  base: string;
}

async function listening(env: Record<string, string> = {}, host = '127.0.0.1', clock?: TestClock): Promise<Listening> {
  const gk = await startGatekeeper(
    'memory',
    { GATEKEEPER_SMTP_URL: smtp.url(), GATEKEEPER_PUBLIC_URL: PUBLIC_URL, ...env },
    { mail: { retryDelaysMs: [10, 10] }, ...(clock ? { now: clock.now } : {}) },
  );
  await gk.app.listen({ host, port: 0 });
  const address = gk.app.server.address() as { port: number };
  return { gk, base: `http://${host}:${address.port}` };
}

let main: Listening;
let base: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  main = await listening();
  base = main.base;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await main?.gk.close();
  await smtp?.stop();
});

let session: PageSession;

beforeEach(async () => {
  session = await openPage(browser);
});

afterEach(async () => {
  await session?.close();
});

async function api(origin: string, method: string, url: string, body?: unknown, token?: string) {
  const response = await fetch(`${origin}${url}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function registerUser(origin: string, username: string, email?: string) {
  const registered = await api(origin, 'POST', '/auth/register', {
    username,
    password: STRONG_PASSWORD,
    ...(email ? { email } : {}),
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
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
  const status = page.locator('#status');
  await expect.poll(() => status.textContent(), WAIT).toMatch(pattern);
  return (await status.textContent()) ?? '';
}

async function openLogin(page: Page, origin = base, query = ''): Promise<void> {
  await page.goto(`${origin}/login${query}`);
  await page.getByLabel('Username or email').waitFor(WAIT);
}

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function expectPath(page: Page, path: string): Promise<void> {
  await page.waitForURL((url) => url.pathname === path, WAIT);
}

describe('/register and /login in chromium', () => {
  it('registering signs in with HttpOnly SameSite=Strict cookies only, nothing in script-visible storage', async () => {
    const { page, context } = session;
    await page.goto(`${base}/register`);
    await page.getByLabel('Username').waitFor(WAIT);
    expect(await page.locator('#password-hint').textContent()).toMatch(/uppercase.*lowercase.*digit/);
    await checkPage(page, 'register');

    await page.getByLabel('Username').fill('e2e_newcomer');
    await page.getByLabel('Email address (optional)').fill('e2e_newcomer@example.test');
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('The password again').fill(`${STRONG_PASSWORD}?`);
    await page.getByRole('button', { name: 'Create the account' }).click();
    await statusText(page, /^The two passwords differ\.$/);
    await checkPage(page, 'register-mismatch');
    expect(
      (await api(base, 'POST', '/auth/login', { username: 'e2e_newcomer', password: STRONG_PASSWORD })).status,
    ).toBe(401);

    await page.getByLabel('The password again').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create the account' }).click();
    await expectPath(page, '/account');
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await page.evaluate('localStorage.length + sessionStorage.length')).toBe(0);
    const cookies = await context.cookies();
    for (const name of ['gatekeeper-access', 'gatekeeper-refresh']) {
      const cookie = cookies.find((c) => c.name === name);
      expect(cookie, name).toBeDefined();
      expect(cookie?.httpOnly).toBe(true);
      expect(cookie?.sameSite).toBe('Strict');
    }

    // Signed in: /login sends the person on at once.
    await page.goto(`${base}/login`);
    await expectPath(page, '/account');
  });

  it('a taken username is said in plain words', async () => {
    const { page } = session;
    await registerUser(base, 'e2e_taken');
    await page.goto(`${base}/register`);
    await page.getByLabel('Username').fill('e2e_taken');
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('The password again').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create the account' }).click();
    await statusText(page, /That username is taken\. Choose another one\./);
    await checkPage(page, 'register-taken');

    await page.getByLabel('Username').fill('e2e_weak');
    await page.getByLabel('Password', { exact: true }).fill('weakweak');
    await page.getByLabel('The password again').fill('weakweak');
    await page.getByRole('button', { name: 'Create the account' }).click();
    await statusText(page, /^Please check: /);
    await checkPage(page, 'register-invalid');
  });

  it('after signing out, a wrong password is refused in plain words and the right one signs in', async () => {
    const { page } = session;
    await registerUser(base, 'e2e_returning');
    await openLogin(page);
    await signIn(page, 'e2e_returning', STRONG_PASSWORD);
    await expectPath(page, '/account');
    const signedOut = await page.evaluate(async () => {
      const response = await fetch('/auth/session', { method: 'DELETE', headers: { 'x-gatekeeper-csrf': '1' } });
      return response.status;
    });
    expect(signedOut).toBeLessThan(300);

    await openLogin(page);
    expect(await page.locator('#register-link').isVisible()).toBe(true);
    expect(await page.locator('#https-notice').isHidden()).toBe(true);
    await checkPage(page, 'login');
    await signIn(page, 'e2e_returning', 'Wr0ng-Passw0rd!');
    await statusText(page, /The username or password is not right\./);
    expect(await page.locator('#status').getAttribute('data-kind')).toBe('error');
    await checkPage(page, 'login-wrong-password');
    await signIn(page, 'e2e_returning', STRONG_PASSWORD);
    await expectPath(page, '/account');
  });

  it('return_to: a path here is followed, another site is refused', async () => {
    const { page, context } = session;
    await registerUser(base, 'e2e_return');
    await openLogin(page, base, '?return_to=/admin');
    expect(await page.locator('body').getAttribute('data-return-to')).toBe('/admin');
    expect(await page.locator('#forgot-link').getAttribute('href')).toBe('/forgot-password?return_to=%2Fadmin');
    await signIn(page, 'e2e_return', STRONG_PASSWORD);
    await expectPath(page, '/admin');

    await context.clearCookies();
    await openLogin(page, base, `?return_to=${encodeURIComponent('https://evil.example/')}`);
    expect(await page.locator('body').getAttribute('data-return-to')).toBe('');
    expect(await page.locator('#forgot-link').getAttribute('href')).toBe('/forgot-password');
    await signIn(page, 'e2e_return', STRONG_PASSWORD);
    await expectPath(page, '/account');
  });

  it('MFA: the code step takes the focus, a wrong code is said, a recovery code signs in', async () => {
    const { page } = session;
    await registerUser(base, 'e2e_mfa');
    const tokens = await api(base, 'POST', '/auth/login', { username: 'e2e_mfa', password: STRONG_PASSWORD });
    const access = tokens.body.access_token as string;
    const setup = await api(base, 'POST', '/auth/mfa/totp/setup', { password: STRONG_PASSWORD }, access);
    expect(setup.status, JSON.stringify(setup.body)).toBe(200);
    const secret = setup.body.secret as string;
    const confirm = await api(base, 'POST', '/auth/mfa/totp/confirm', { code: await generate({ secret }) }, access);
    expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
    const recoveryCodes = confirm.body.recovery_codes as string[];

    await openLogin(page);
    await signIn(page, 'e2e_mfa', STRONG_PASSWORD);
    const code = page.getByLabel('Code from your authenticator app, or a recovery code');
    await code.waitFor({ state: 'visible', ...WAIT });
    expect(await page.locator('#login').isHidden()).toBe(true);
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.id'), WAIT).toBe('code');
    expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
    await checkPage(page, 'login-mfa');

    // A code that is not the current one: the current code with its first digit changed.
    const current = await generate({ secret });
    await code.fill(`${(Number(current[0]) + 1) % 10}${current.slice(1)}`);
    await page.getByRole('button', { name: 'Continue' }).click();
    await statusText(page, /That code is not right, or it was used already\./);
    await checkPage(page, 'login-mfa-wrong-code');

    await code.fill(recoveryCodes[0] as string);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectPath(page, '/account');
  });

  it('keyboard only: type, Tab, type, Enter signs in', async () => {
    const { page } = session;
    await registerUser(base, 'e2e_keyboard');
    await openLogin(page);
    await page.focus('#username');
    await page.keyboard.type('e2e_keyboard');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('password');
    await page.keyboard.type(STRONG_PASSWORD);
    await page.keyboard.press('Enter');
    await expectPath(page, '/account');
  });

  it('/login and all it loads weigh under 100 KB', async () => {
    const { page, context } = session;
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    let bytes = 0;
    let responses = 0;
    cdp.on('Network.loadingFinished', (event) => {
      bytes += event.encodedDataLength;
      responses += 1;
    });
    await page.goto(`${base}/login`, { waitUntil: 'networkidle' });
    console.log(`/login: ${responses} responses, ${bytes} bytes transferred`);
    // The page, two stylesheets, two scripts and GET /auth/me at least.
    expect(responses).toBeGreaterThanOrEqual(5);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(100 * 1024);
  });

  it('/mfa explains that the code is asked for after the password', async () => {
    const { page } = session;
    await page.goto(`${base}/mfa`);
    await page.getByRole('link', { name: 'Sign in', exact: true }).waitFor(WAIT);
    expect(await page.locator('main').textContent()).toMatch(/Sign in first/);
    await checkPage(page, 'mfa');
  });
});

describe('/forgot-password and /reset-password in chromium', () => {
  it('the same words for an unknown and a known address; the known one gets a link that resets', async () => {
    const { page } = session;
    const email = 'e2e_forgetful@example.test';
    await registerUser(base, 'e2e_forgetful', email);
    const neutral = /^If an account matches, we have sent a link .* valid for 30 minutes\. .*spam/;

    await page.goto(`${base}/forgot-password`);
    const field = page.getByLabel('Email address or username');
    await field.waitFor(WAIT);
    await checkPage(page, 'forgot-password');
    await field.fill('nobody-here@example.test');
    await page.getByRole('button', { name: 'Send the link' }).click();
    const unknown = await statusText(page, neutral);
    await checkPage(page, 'forgot-password-sent');

    await page.goto(`${base}/forgot-password`);
    await field.fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    expect(await statusText(page, neutral)).toBe(unknown);

    const [mail] = await mailsTo(smtp, email, 1, { except: VERIFICATION_SUBJECT });
    const match = /https:\/\/id\.example\.test\/reset-password#token=[A-Za-z0-9_-]+/.exec(mail?.mail.text ?? '');
    expect(match, mail?.mail.text).not.toBeNull();
    const link = new URL((match as RegExpExecArray)[0]);
    await page.goto(`${base}${link.pathname}${link.hash}`);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('The new password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change the password' }).click();
    await statusText(page, /Your password was changed/);
    const toLogin = page.getByRole('link', { name: 'Sign in with the new password' });
    await toLogin.waitFor({ state: 'visible', ...WAIT });
    await checkPage(page, 'reset-password');
    await toLogin.click();
    await page.getByLabel('Username or email').waitFor(WAIT);
    await signIn(page, email, NEW_PASSWORD);
    await expectPath(page, '/account');
  });
});

describe('a Gatekeeper without self-registration and with a low lockout', () => {
  let other: Listening;

  beforeAll(async () => {
    // On 127.0.0.2 (loopback too, but not a name the browser treats as this machine): plain http
    // from there is what an operator without TLS would serve, and /login must warn about it.
    other = await listening(
      {
        GATEKEEPER_ALLOW_REGISTRATION: 'false',
        GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES: '3',
        GATEKEEPER_FORGOT_IP_MAX_REQUESTS: '2',
      },
      '127.0.0.2',
    );
  });

  afterAll(async () => {
    await other?.gk.close();
  });

  it('/register is 404 and /login offers no "Create an account"', async () => {
    const { page } = session;
    expect((await fetch(`${other.base}/register`)).status).toBe(404);
    await openLogin(page, other.base);
    expect(await page.locator('#register-link').isHidden()).toBe(true);
    expect(await page.getByRole('link', { name: 'Create an account' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Forgot your password?' }).isVisible()).toBe(true);
    expect(await page.locator('#https-notice').isVisible()).toBe(true);
    expect(await page.locator('#https-notice').textContent()).toMatch(/Sign-in needs HTTPS here/);
    await checkPage(page, 'login-no-registration');
  });

  it('wrong passwords until the account is paused: the page says how long', async () => {
    const { page } = session;
    // Self-registration is closed here: the account comes from the service directly.
    await other.gk.service.ensureAdmin({ username: 'e2e_locked', password: STRONG_PASSWORD, email: null });
    await openLogin(page, other.base);
    let paused = '';
    for (let attempt = 1; attempt <= 6 && !paused; attempt++) {
      await signIn(page, 'e2e_locked', `Wr0ng-Passw0rd!${attempt}`);
      await expect.poll(() => page.locator('#status').textContent(), WAIT).toMatch(/not right|Too many attempts/);
      // The button comes back once the answer is shown; the next attempt must wait for it.
      await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor(WAIT);
      const text = (await page.locator('#status').textContent()) ?? '';
      if (/Too many attempts/.test(text)) paused = text;
      else await page.locator('#status').evaluate((el) => (el.textContent = ''));
    }
    // The pause grows from one second (src/security/throttle.ts), so its words are checked, not its length.
    expect(paused).toMatch(/sign-in is paused: try again in \d+ (minutes?|seconds?)\./);
    await checkPage(page, 'login-paused');
  });

  it('/forgot-password past its limit says how long to wait', async () => {
    const { page } = session;
    await page.goto(`${other.base}/forgot-password`);
    const field = page.getByLabel('Email address or username');
    let refused = '';
    for (let attempt = 1; attempt <= 4 && !refused; attempt++) {
      await field.fill(`someone${attempt}@example.test`);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await expect.poll(() => page.locator('#status').textContent(), WAIT).toMatch(/If an account matches|Too many/);
      await page.getByRole('button', { name: 'Send the link' }).and(page.locator(':enabled')).waitFor(WAIT);
      const text = (await page.locator('#status').textContent()) ?? '';
      if (/Too many/.test(text)) refused = text;
      else await page.locator('#status').evaluate((el) => (el.textContent = ''));
    }
    expect(refused).toMatch(/^Too many requests\. Try again in \d+ (minutes?|seconds?)\.$/);
    expect(await page.locator('#status').getAttribute('data-kind')).toBe('error');
    await checkPage(page, 'forgot-password-throttled');
  });
});

describe('a Gatekeeper that requires confirmed addresses', () => {
  let strict: Listening;

  beforeAll(async () => {
    strict = await listening({ GATEKEEPER_REQUIRE_EMAIL_VERIFICATION: 'true' });
  });

  afterAll(async () => {
    await strict?.gk.close();
  });

  it('registering says to confirm the address first, and signs nobody in', async () => {
    const { page, context } = session;
    await page.goto(`${strict.base}/register`);
    await page.getByLabel('Username').fill('e2e_unconfirmed');
    await page.getByLabel('Email address (optional)').fill('e2e_unconfirmed@example.test');
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('The password again').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create the account' }).click();
    await statusText(page, /Check your mail to confirm the address, then sign in\./);
    expect(await page.locator('#register').isHidden()).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/register');
    expect((await context.cookies()).map((c) => c.name)).not.toContain('gatekeeper-access');
    await checkPage(page, 'register-confirm-mail');
  });
});

describe('an MFA step left too long', () => {
  const clock = testClock();
  let timed: Listening;

  beforeAll(async () => {
    timed = await listening({}, '127.0.0.1', clock);
  });

  afterAll(async () => {
    await timed?.gk.close();
  });

  it('an expired step sends the person back to the password, saying why', async () => {
    const { page } = session;
    await registerUser(timed.base, 'e2e_slow');
    const tokens = await api(timed.base, 'POST', '/auth/login', { username: 'e2e_slow', password: STRONG_PASSWORD });
    const access = tokens.body.access_token as string;
    const setup = await api(timed.base, 'POST', '/auth/mfa/totp/setup', { password: STRONG_PASSWORD }, access);
    const secret = setup.body.secret as string;
    const epoch = () => Math.floor(clock.now().getTime() / 1000);
    const confirm = await api(
      timed.base,
      'POST',
      '/auth/mfa/totp/confirm',
      { code: await generate({ secret, epoch: epoch() }) },
      access,
    );
    expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);

    await openLogin(page, timed.base);
    await signIn(page, 'e2e_slow', STRONG_PASSWORD);
    const code = page.getByLabel('Code from your authenticator app, or a recovery code');
    await code.waitFor({ state: 'visible', ...WAIT });
    // The challenge lives 300 seconds (API.md); the code typed afterwards is a fresh, right one.
    clock.advance(301);
    await code.fill(await generate({ secret, epoch: epoch() }));
    await page.getByRole('button', { name: 'Continue' }).click();
    await statusText(page, /^This sign-in step has expired; enter your password again\.$/);
    expect(await page.locator('#mfa').isHidden()).toBe(true);
    expect(await page.locator('#login').isVisible()).toBe(true);
    expect(await page.evaluate('document.activeElement.id')).toBe('username');
    await checkPage(page, 'login-mfa-expired');
  });
});
