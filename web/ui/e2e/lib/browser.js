// The browser side: Debian's chromium driven by playwright-core, one
// browser per run and a fresh context (cookies, storage) per test.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS } from './env.js';

export const TIMEOUT = 15000; // any single wait in a page

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * A browser context and page that record the page's errors: uncaught
 * exceptions (pageerror) and console messages of type error. The test that
 * produced them fails (see check()). Chromium logs a console error for every
 * HTTP error answer a page's fetch gets ("Failed to load resource: … 401");
 * those are expected in a few places (the session probe before login, a wrong
 * password, a forbidden view) and are allowed by URL and status with allow().
 */
export class Session {
  constructor(context, page, base) {
    this.context = context;
    this.page = page;
    this.base = base;
    this.errors = [];
    // GET /api/v1/session before login answers 401: that is how the app
    // learns it must show the login page.
    this.allowed = [{ status: 401, url: /\/api\/v1\/session(\?|$)/ }];
    page.on('pageerror', (err) => this.errors.push(`pageerror: ${err.stack || err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      const url = msg.location()?.url || '';
      const m = /Failed to load resource: the server responded with a status of (\d+)/.exec(text);
      if (m && this.allowed.some((a) => a.status === Number(m[1]) && a.url.test(url))) return;
      this.errors.push(`console error: ${text}${url ? ` (${url})` : ''}`);
    });
  }

  /** Allows an HTTP error answer (status, URL pattern) to be logged. */
  allow(status, url) {
    this.allowed.push({ status, url });
  }

  /** Throws if the page reported errors so far. */
  check() {
    if (this.errors.length) {
      throw new Error(`the page reported ${this.errors.length} error(s):\n  ${this.errors.join('\n  ')}`);
    }
  }

  url(path) {
    return new URL(path, this.base).toString();
  }

  /** Logs in through the API (quick); the context then holds the cookies. */
  async loginAPI(user) {
    const res = await this.page.request.post(this.url('/api/v1/session'), {
      data: { username: user.name, password: user.password },
    });
    if (res.status() !== 200) throw new Error(`POST /api/v1/session as ${user.name}: HTTP ${res.status()} ${await res.text()}`);
    return res.json();
  }

  /** Logs in through the login form; returns once a page has loaded. */
  async loginForm(user) {
    const page = this.page;
    await page.goto(this.url('/'));
    await page.locator('input[name="username"]').fill(user.name);
    await page.locator('input[name="password"]').fill(user.password);
    await page.locator('button[type="submit"], input[type="submit"]').first().click();
  }

  /**
   * Waits for the page root to settle and returns {id, state}. Fails on
   * data-state="error" (with the page's text) and on a timeout.
   */
  async settled(timeout = TIMEOUT) {
    const page = this.page;
    const main = page.locator('main[data-testid^="page-"]');
    try {
      await page.waitForFunction(
        () => {
          const m = document.querySelector('main[data-testid^="page-"]');
          const s = m && m.getAttribute('data-state');
          return s === 'ready' || s === 'empty' || s === 'error';
        },
        null,
        { timeout },
      );
    } catch (e) {
      const states = await main.evaluateAll((ms) => ms.map((m) => `${m.dataset.testid}:${m.dataset.state}`)).catch(() => []);
      throw new Error(`no page settled within ${timeout} ms at ${page.url()} (pages: ${states.join(', ') || 'none'})`);
    }
    const id = await main.getAttribute('data-testid');
    const state = await main.getAttribute('data-state');
    if (state === 'error') {
      const text = (await main.innerText()).slice(0, 500);
      throw new Error(`${id} shows its error state at ${page.url()}: ${text}`);
    }
    return { id, state };
  }

  /** Saves a full-page screenshot into artifacts/<name>.png. */
  async screenshot(name) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path, fullPage: true, animations: 'disabled' });
    return path;
  }

  async close() {
    await this.context.close();
  }
}

/**
 * Runs fn with a fresh Session and fails the test if the page reported
 * errors, whatever fn's outcome. Options go to browser.newContext.
 */
export async function withSession(browser, base, fn, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
    ...options,
  });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const s = new Session(context, page, base);
  try {
    await fn(s);
    s.check();
  } catch (e) {
    if (s.errors.length && !String(e.message).includes('the page reported')) {
      e.message += `\n(the page also reported: ${s.errors.join(' | ')})`;
    }
    throw e;
  } finally {
    await s.close();
  }
}

/**
 * Sets query parameters on an app URL. Works for path routing
 * (/business/overview?x) and hash routing (/#/business/overview?x).
 */
export function withParams(href, params) {
  const u = new URL(href);
  const set = (sp) => {
    for (const [k, v] of Object.entries(params)) {
      if (v === null || v === undefined) sp.delete(k);
      else sp.set(k, v);
    }
  };
  if (u.hash.startsWith('#/')) {
    const [path, query = ''] = u.hash.slice(1).split('?');
    const sp = new URLSearchParams(query);
    set(sp);
    u.hash = '#' + path + (sp.toString() ? '?' + sp : '');
  } else {
    set(u.searchParams);
  }
  return u.toString();
}

/** The app's query parameters of a URL (from the hash when it routes there). */
export function appParams(href) {
  const u = new URL(href);
  if (u.hash.startsWith('#/')) return new URLSearchParams(u.hash.split('?')[1] || '');
  return u.searchParams;
}
