// End-to-end tests of the apilens dashboard: a real server with seeded
// simulated traffic, Debian's headless chromium driven by playwright-core.
// One server and one browser for the whole run (see before()); each test has
// its own browser context, so its own cookies.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APILENS_BIN, ARTIFACTS, IN_CI, UI_NOT_BUILT, checkBinary, checkChromium } from '../lib/env.js';
import { ApilensServer, SEED } from '../lib/server.js';
import { launchBrowser, withSession, withParams, appParams } from '../lib/browser.js';

let server; // ApilensServer
let browser; // playwright Browser
let serverMissing = null; // Missing: no server, so nothing can run
let browserMissing = null; // Missing: no chromium or no built UI, so only the API tests run
const ADMIN_PERSONAS = ['business', 'api', 'application', 'monitoring', 'loganalyzer', 'alerts', 'reports', 'settings'];
const TRAFFIC_VIEWS = ['business', 'api', 'application', 'monitoring'];
// A page of the app (the login page is main[data-testid="page-login"]).
const APP_PAGE = 'main[data-testid^="page-"]:not([data-testid="page-login"])';

function missing(err) {
  // In CI a missing prerequisite is a failure; elsewhere the tests skip.
  if (IN_CI) throw new Error(`${err.message} (CI=true, so this fails rather than skips)`);
  console.log(`skipping: ${err.message}`);
  return err;
}

before(async () => {
  const noBin = checkBinary();
  if (noBin) {
    serverMissing = missing(noBin);
    return;
  }
  server = new ApilensServer(APILENS_BIN, { logName: 'server-dashboard.log' });
  await server.start();
  const t0 = Date.now();
  await server.seed();
  await server.addUser('appdev', ['application_analytics:view']);
  console.log(
    `server ${server.base}, ${SEED.events} events (seed ${SEED.seed}) over ${server.window.fromISO} … ${server.window.toISO}, seeded in ${Date.now() - t0} ms`,
  );
  browserMissing = checkChromium();
  if (!browserMissing && !(await server.uiBuilt())) browserMissing = UI_NOT_BUILT;
  if (browserMissing) {
    browserMissing = missing(browserMissing);
    return;
  }
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** Skips the test when the server (or also the browser) cannot run. */
function skipped(t, needBrowser) {
  const m = serverMissing || (needBrowser ? browserMissing : null);
  if (m) t.skip(m.message);
  return Boolean(m);
}

const iso = (d) => d.toISOString().replace('.000Z', 'Z');

/** A minimal cookie jar for fetch: logs in and sends the session's cookies. */
async function apiSession(user) {
  const res = await fetch(server.base + '/api/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.name, password: user.password }),
  });
  const body = await res.json().catch(() => null);
  const cookies = {};
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    cookies[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  const cookie = Object.entries(cookies)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
  return {
    status: res.status,
    body,
    cookies,
    setCookie: res.headers.getSetCookie(),
    fetch: (path, init = {}) => fetch(server.base + path, { ...init, headers: { cookie, ...(init.headers || {}) } }),
  };
}

// ---------------------------------------------------------------------------
// API level: needs only the server. These also run where there is no browser.
describe('API with a session cookie', () => {
  test('the seeded traffic is all counted', async (t) => {
    if (skipped(t, false)) return;
    const w = server.window;
    const s = await server.json(`/api/v1/traffic/summary?from=${w.fromISO}&to=${w.toISO}`);
    assert.equal(s.requests, SEED.events);
    assert.ok(s.faults > 0 && s.throttled > 0 && s.errors4xx > 0 && s.errors5xx > 0, `varied traffic: ${JSON.stringify(s)}`);
  });

  test('login answers the user, personas and a CSRF token; a wrong password is 401', async (t) => {
    if (skipped(t, false)) return;
    const s = await apiSession(server.admin);
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.equal(s.body.user.name, 'admin');
    assert.deepEqual(s.body.personas, ADMIN_PERSONAS);
    assert.ok(s.body.csrfToken, 'csrfToken in the answer');
    assert.equal(s.cookies.apilens_csrf, s.body.csrfToken, 'apilens_csrf cookie is the csrfToken');
    const session = s.setCookie.find((c) => c.startsWith('apilens_session='));
    assert.ok(session, 'apilens_session cookie set');
    assert.match(session, /HttpOnly/i);
    assert.match(session, /SameSite=Strict/i);
    const me = await s.fetch('/api/v1/session');
    assert.equal(me.status, 200);
    assert.equal((await me.json()).user.name, 'admin');

    const bad = await apiSession({ name: 'admin', password: 'not-the-password' });
    assert.equal(bad.status, 401);
    assert.ok(bad.body?.error, 'an error in words');
  });

  test('a user with only application_analytics:view gets only application views', async (t) => {
    if (skipped(t, false)) return;
    const s = await apiSession(server.users.appdev);
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.deepEqual(s.body.personas, ['application']);
    for (const view of TRAFFIC_VIEWS) {
      const res = await s.fetch(`/api/v1/traffic/summary?view=${view}`);
      assert.equal(res.status, view === 'application' ? 200 : 403, `view=${view}`);
    }
    const top = await s.fetch('/api/v1/traffic/top?dimension=api&view=business');
    assert.equal(top.status, 403, 'traffic/top view=business');
    const users = await s.fetch('/api/v1/users');
    assert.equal(users.status, 403, 'GET /api/v1/users is for admins');
  });

  test('state-changing calls with the session cookie need X-CSRF-Token', async (t) => {
    if (skipped(t, false)) return;
    const s = await apiSession(server.admin);
    const body = JSON.stringify({ name: 'csrf-probe', password: 'pw-csrf-probe-1234', roles: ['api_analytics:view'] });
    const post = (headers) => s.fetch('/api/v1/users', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    assert.equal((await post({})).status, 403, 'no token');
    assert.equal((await post({ 'x-csrf-token': 'wrong' })).status, 403, 'wrong token');
    const ok = await post({ 'x-csrf-token': s.body.csrfToken });
    assert.equal(ok.status, 201, `with the token: ${await ok.text()}`);
    const del = await s.fetch('/api/v1/users/csrf-probe', { method: 'DELETE' });
    assert.equal(del.status, 403, 'DELETE without token');
    const del2 = await s.fetch('/api/v1/users/csrf-probe', { method: 'DELETE', headers: { 'x-csrf-token': s.body.csrfToken } });
    assert.equal(del2.status, 204, 'DELETE with the token');
  });
});

// ---------------------------------------------------------------------------
// In the browser.

let adminNavCache;
/** The admin's navigation: [{testid, href}] in order (logged in once). */
async function adminNav() {
  if (adminNavCache) return adminNavCache;
  await withSession(browser, server.base, async (s) => {
    await s.loginAPI(server.admin);
    await s.page.goto(s.url('/'));
    await s.settled();
    adminNavCache = await navLinks(s.page);
  });
  return adminNavCache;
}

/** Opens an app URL directly (as a copied link would); fails unless the server answers the app. */
async function open(page, href) {
  const res = await page.goto(href);
  if (res && !res.ok()) {
    throw new Error(`opening ${new URL(href).pathname} directly: HTTP ${res.status()} (${(await res.text()).slice(0, 120)})`);
  }
}

async function navLinks(page) {
  return page
    .locator('a[data-testid^="nav-"]')
    .evaluateAll((as) => as.map((a) => ({ testid: a.dataset.testid, href: a.href })));
}

/** Reads the KPI tiles: {name: data-value}. */
async function readKPIs(page) {
  return page
    .locator('[data-testid^="kpi-"][data-value]')
    .evaluateAll((els) => Object.fromEntries(els.map((e) => [e.dataset.testid.slice(4), e.dataset.value === '' ? undefined : e.dataset.value])));
}

// KPI tile name → the summary's figure.
const KPI_FIGURE = {
  requests: (f) => f.requests,
  successful: (f) => f.successful,
  faults: (f) => f.faults,
  throttled: (f) => f.throttled,
  errors4xx: (f) => f.errors4xx,
  errors5xx: (f) => f.errors5xx,
  'latency-p50': (f) => f.latency?.p50,
  'latency-p95': (f) => f.latency?.p95,
  'latency-p99': (f) => f.latency?.p99,
};
const DIMENSIONS = ['api', 'apiVersion', 'application', 'resource', 'destination', 'user', 'tenant', 'errorType', 'errorMessage', 'country', 'browser', 'os', 'device'];

/** The traffic dimension a table shows: data-dimension, or its id (table-<dim> or table-…-<dim>). */
function tableDimension(testid, attr) {
  if (attr && DIMENSIONS.includes(attr)) return attr;
  const id = testid.slice('table-'.length);
  const lower = DIMENSIONS.map((d) => d.toLowerCase());
  const last = id.split('-').pop().toLowerCase();
  const i = lower.indexOf(id.toLowerCase()) >= 0 ? lower.indexOf(id.toLowerCase()) : lower.indexOf(last);
  return i >= 0 ? DIMENSIONS[i] : null;
}

/** The query string of the page URL's range, view and filters, for the API. */
function apiQuery(pageURL, persona) {
  const p = appParams(pageURL);
  const q = new URLSearchParams();
  for (const k of ['from', 'to', 'tenant', 'api', 'application']) if (p.get(k)) q.set(k, p.get(k));
  if (TRAFFIC_VIEWS.includes(persona)) q.set('view', persona);
  return q;
}

describe('dashboard in chromium', () => {
  test('first load: the overview gets ready (the time is reported)', async (t) => {
    if (skipped(t, true)) return;
    // Start chromium's renderer once on a blank page, so the figure is the
    // app's load, not the browser's own start.
    await withSession(browser, server.base, (s) => s.page.goto('about:blank'));
    // Two first loads, each in a fresh context (empty cache, no storage),
    // logged in through the API: navigation → the overview's data-state=ready.
    const times = [];
    const cpu = [];
    for (let i = 0; i < 2; i++) {
      await withSession(browser, server.base, async (s) => {
        await s.loginAPI(server.admin);
        // The renderer's main-thread time (CPU spent on script, style,
        // layout), a figure a busy machine inflates less than the wall clock.
        const cdp = await s.context.newCDPSession(s.page);
        await cdp.send('Performance.enable');
        const t0 = Date.now();
        await s.page.goto(s.url('/'));
        const { id, state } = await s.settled();
        const wall = Date.now() - t0;
        const m = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
        cpu.push(`${Math.round(m.TaskDuration * 1000)} ms (script ${Math.round(m.ScriptDuration * 1000)} ms)`);
        assert.equal(id, 'page-business-overview', 'the admin lands on the Business overview');
        assert.equal(state, 'ready', `${id} has the seeded data, so it is ready, not empty`);
        times.push(wall);
      });
    }
    const best = Math.min(...times);
    const line = `first load: business overview ready ${times.join(' ms, ')} ms after navigation (best ${best} ms; target 1000 ms); renderer main thread busy ${cpu.join(', ')}`;
    console.log(line);
    // The figure is reported, not asserted: timings belong in benchmarks,
    // and a busy CI machine (2 cores shared by the server and chromium,
    // which renders in software) must not fail a run over them. The suite
    // writes it where `make bench` and the README pick it up; a page that
    // never gets ready still fails, on settled()'s timeout.
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'first-load.txt'), line + '\n');
  });

  test('login with the form, logout, and a wrong password', async (t) => {
    if (skipped(t, true)) return;
    await withSession(browser, server.base, async (s) => {
      const { page } = s;
      // A wrong password first: the login answers 401, which chromium logs.
      s.allow(401, /\/api\/v1\/session/);
      await s.loginForm({ name: 'admin', password: 'wrong-password' });
      const err = page
        .locator('[role="alert"], [data-testid="login-error"]')
        .or(page.getByText(/wrong|invalid|incorrect|does not match/i));
      await err.first().waitFor({ state: 'visible' });
      const text = (await err.first().innerText()).trim();
      assert.match(text, /[a-z]{3,}.*[a-z]{3,}/i, `an error in words: "${text}"`);
      await s.screenshot('login-wrong-password');
      assert.equal(await page.locator(APP_PAGE).count(), 0, 'no page behind the login');

      await page.locator('input[name="password"]').fill(server.admin.password);
      await page.locator('button[type="submit"], input[type="submit"]').first().click();
      const { id } = await s.settled();
      const personas = await navLinks(page);
      assert.ok(personas.length > 0, 'navigation after login');
      assert.equal(id, 'page-' + personas[0].testid.slice(4), 'lands on the first page of the navigation');

      await page.locator('[data-testid="logout"]').click();
      await page.locator('input[name="username"]').waitFor({ state: 'visible' });
      assert.equal(await page.locator(APP_PAGE).count(), 0, 'no page after logout');
      const me = await page.request.get(s.url('/api/v1/session'));
      assert.equal(me.status(), 401, 'the session has ended on the server');
      // Reloading stays on the login page.
      await page.reload();
      await page.locator('input[name="password"]').waitFor({ state: 'visible' });
    });
  });

  test("every page of the admin's navigation loads (screenshots in artifacts/)", async (t) => {
    if (skipped(t, true)) return;
    const nav = await adminNav();
    let pageFailures = [];
    const groups = new Set(nav.map((n) => n.testid.split('-')[1]));
    assert.deepEqual([...groups], ADMIN_PERSONAS, 'the admin sees every persona, in order');
    await withSession(
      browser,
      server.base,
      async (s) => {
        await s.loginAPI(server.admin);
        const states = [];
        const failures = [];
        for (const link of nav) {
          const want = 'page-' + link.testid.slice(4);
          const seen = s.errors.length;
          try {
            await open(s.page, link.href);
            await s.page.locator(`main[data-testid="${want}"]`).waitFor({ state: 'attached' });
            const { id, state } = await s.settled();
            assert.equal(id, want, `${link.testid} opens its page`);
            states.push(`${id.slice(5)}:${state}`);
          } catch (e) {
            failures.push(`${want} (${link.href}): ${e.message.split('\n')[0]}`);
            states.push(`${want.slice(5)}:FAILED`);
          }
          await s.screenshot(want.slice(5));
          for (const err of s.errors.slice(seen)) failures.push(`${want}: ${err}`);
        }
        s.errors = []; // reported below, page by page
        console.log(`pages: ${states.join(' ')}`);
        pageFailures = failures;
      },
      { colorScheme: 'dark' },
    );
    // The overview in both themes. The app keeps the theme in localStorage
    // ("apilens-theme", dark by default); the system preference is emulated
    // too, in case it follows that.
    const overview = nav[0];
    for (const scheme of ['dark', 'light']) {
      await withSession(
        browser,
        server.base,
        async (s) => {
          await s.context.addInitScript((t) => localStorage.setItem('apilens-theme', t), scheme);
          await s.loginAPI(server.admin);
          await s.page.goto(overview.href);
          const { id } = await s.settled();
          const theme = await s.page.evaluate(() => document.documentElement.dataset.theme);
          assert.equal(theme, scheme, `<html data-theme> is ${scheme}`);
          await s.screenshot(`${id.slice(5)}-${scheme}`);
        },
        { colorScheme: scheme },
      );
    }
    assert.deepEqual(pageFailures, [], `${pageFailures.length} page(s) failed:\n  ${pageFailures.join('\n  ')}`);
  });

  test("figures shown equal the API's answers (fixed custom range)", async (t) => {
    if (skipped(t, true)) return;
    const nav = await adminNav();
    // A fixed range in the past, so the figures cannot drift while the test
    // runs: the middle of the seeded window (from its 24th hour to 12 hours
    // before its end), so that a page which ignored the URL's range (and
    // showed the default, which holds every seeded event) would differ.
    const from = iso(new Date(server.window.from.getTime() + 24 * 3600e3));
    const to = iso(new Date(server.window.to.getTime() - 12 * 3600e3));
    const part = await server.json(`/api/v1/traffic/summary?from=${from}&to=${to}`);
    assert.ok(part.requests > 0 && part.requests < SEED.events, `the range holds some of the seeded events: ${part.requests}`);
    let kpiChecked = 0;
    let rowsChecked = 0;
    const notes = [];
    const checkedTables = [];
    const failures = [];
    await withSession(browser, server.base, async (s) => {
      await s.loginAPI(server.admin);
      let topDims = [];
      s.page.on('request', (r) => {
        const u = new URL(r.url());
        if (u.pathname === '/api/v1/traffic/top' && u.searchParams.get('dimension')) topDims.push(u.searchParams.get('dimension'));
      });
      // The traffic personas' pages: their figures come from traffic/*
      // (the log analyzer's, alerts' and settings' do not).
      for (const link of nav.filter((n) => TRAFFIC_VIEWS.includes(n.testid.split('-')[1]))) {
        topDims = [];
        const seen = s.errors.length;
        try {
        await open(s.page, withParams(link.href, { from, to, range: null, refresh: 'off' }));
        const want = 'page-' + link.testid.slice(4);
        await s.page.locator(`main[data-testid="${want}"]`).waitFor({ state: 'attached' });
        const { id, state } = await s.settled();
        if (state !== 'ready') continue;
        const persona = id.split('-')[1];
        const pageURL = s.page.url();
        const p = appParams(pageURL);
        assert.equal(p.get('from'), from, `${id}: the URL keeps the custom range's from`);
        assert.equal(p.get('to'), to, `${id}: the URL keeps the custom range's to`);
        const q = apiQuery(pageURL, persona);

        const kpis = await readKPIs(s.page);
        const names = Object.keys(kpis);
        if (names.length) {
          const sum = await server.json(`/api/v1/traffic/summary?${q}`);
          for (const name of names) {
            if (name === 'latency-p99-max') {
              // Monitoring's "highest p99 latency": the largest p99 of any API.
              const aq = new URLSearchParams(q);
              aq.set('dimension', 'api');
              aq.set('limit', '10000');
              const apis = (await server.json(`/api/v1/traffic/top?${aq}`)).items.filter((it) => it.latency);
              const max = Math.max(...apis.map((it) => it.latency.p99));
              assert.equal(Number(kpis[name]), max, `${id} kpi-${name}: shown ${kpis[name]}, the largest p99 of top?${aq} is ${max}`);
              kpiChecked++;
              continue;
            }
            const figure = KPI_FIGURE[name];
            if (!figure) {
              notes.push(`${id}: kpi-${name} has no summary figure to compare with`);
              continue;
            }
            const shown = kpis[name] === undefined ? undefined : Number(kpis[name]);
            assert.equal(shown, figure(sum), `${id} kpi-${name}: shown ${kpis[name]}, API ${figure(sum)} (summary?${q})`);
            kpiChecked++;
          }
        }

        const tables = await s.page
          .locator('[data-testid^="table-"]')
          .evaluateAll((ts) => ts.map((t) => ({ testid: t.dataset.testid, dimension: t.dataset.dimension || '' })));
        for (const tbl of tables) {
          const rows = await readRows(s.page, tbl.testid);
          if (!rows.length) continue;
          // The table's dimension: its data-dimension, its id, or one the
          // page asked traffic/top for; the first whose answer (for the
          // URL's range, view and filters) has every key the table shows.
          // A declared data-dimension is the only candidate.
          const candidates = tbl.dimension
            ? [tbl.dimension]
            : [...new Set([tableDimension(tbl.testid, ''), ...topDims].filter(Boolean))];
          if (!candidates.length) {
            notes.push(`${id}: ${tbl.testid} is not a traffic table (the page asks traffic/top nothing)`);
            continue;
          }
          let match = null;
          for (const dim of candidates) {
            const tq = new URLSearchParams(q);
            tq.set('dimension', dim);
            tq.set('limit', '10000'); // every item: a table may rank or sort by another figure
            const top = await server.json(`/api/v1/traffic/top?${tq}`);
            const byKey = new Map(top.items.map((it) => [it.key, it]));
            if (rows.every((r) => byKey.has(r.key))) {
              match = { dim, top, byKey, tq };
              break;
            }
          }
          assert.ok(match, `${id} ${tbl.testid}: no traffic/top answer (dimensions tried: ${candidates.join(', ') || 'none'}) has the keys shown: ${rows.slice(0, 5).map((r) => r.key).join(', ')}`);
          if (rows[0].requests === undefined) {
            notes.push(`${id}: ${tbl.testid} has no Requests column to compare`);
            continue;
          }
          const n = Math.min(5, rows.length);
          for (let i = 0; i < n; i++) {
            const want = match.byKey.get(rows[i].key).requests;
            assert.equal(rows[i].requests, want, `${id} ${tbl.testid} row ${i} (${rows[i].key}): requests shown ${rows[i].requests}, API ${want} (top?${match.tq})`);
            rowsChecked++;
          }
          // Sorted by requests, most first (the table's default), the rows
          // are the API's first items in its order.
          if (rows.sortedByRequests) {
            assert.deepEqual(
              rows.slice(0, n).map((r) => r.key),
              match.top.items.slice(0, n).map((it) => it.key),
              `${id} ${tbl.testid}: the first rows are the API's top ${match.dim}s`,
            );
          }
          checkedTables.push(`${id.slice(5)}/${tbl.testid.slice(6)}=${match.dim}`);
        }
        } catch (e) {
          failures.push(`${'page-' + link.testid.slice(4)}: ${e.message.split('\n').slice(0, 3).join(' ')}`);
        }
        for (const err of s.errors.slice(seen)) failures.push(`${'page-' + link.testid.slice(4)}: ${err}`);
      }
      s.errors = []; // reported below, page by page
    });
    for (const n of notes) console.log(`note: ${n}`);
    console.log(`compared ${kpiChecked} KPI tiles and ${rowsChecked} table rows with the API; tables: ${checkedTables.join(' ')}`);
    assert.deepEqual(failures, [], `${failures.length} page(s) differ from the API or failed:\n  ${failures.join('\n  ')}`);
    assert.ok(kpiChecked > 0, 'at least one page shows KPI tiles');
    assert.ok(rowsChecked > 0, 'at least one page shows a table of a traffic dimension');
  });

  test('roles: application_analytics:view sees and gets only Application Analytics', async (t) => {
    if (skipped(t, true)) return;
    const nav = await adminNav();
    const business = nav.find((n) => n.testid.startsWith('nav-business-'));
    assert.ok(business, 'the admin has a Business page to try');
    await withSession(browser, server.base, async (s) => {
      const { page } = s;
      await s.loginForm(server.users.appdev);
      const { id } = await s.settled();
      assert.match(id, /^page-application-/, 'lands on an Application Analytics page');
      assert.equal(await page.locator('[data-testid="nav-group-application"]').count(), 1, 'the Application group is there');
      for (const p of ADMIN_PERSONAS.filter((x) => x !== 'application')) {
        assert.equal(await page.locator(`[data-testid="nav-group-${p}"]`).count(), 0, `no nav-group-${p}`);
      }
      const links = await navLinks(page);
      assert.ok(links.length > 0);
      for (const l of links) assert.match(l.testid, /^nav-application-/, `only application links: ${l.testid}`);
      assert.deepEqual(
        links.map((l) => l.testid),
        nav.filter((n) => n.testid.startsWith('nav-application-')).map((n) => n.testid),
        'the same Application pages as the admin',
      );

      // Every application page works for them.
      for (const l of links) {
        await open(page, l.href);
        await page.locator(`main[data-testid="page-${l.testid.slice(4)}"]`).waitFor({ state: 'attached' });
        await s.settled();
      }

      // A Business URL opened directly: "no access", and no Business page.
      // (Should the app still ask for the data, the API's 403 is logged by
      // chromium; that is allowed here, the page must not show the data.)
      s.allow(403, /\/api\/v1\//);
      await page.goto(business.href);
      const forbidden = page.locator('[data-testid="forbidden"]');
      await forbidden.waitFor({ state: 'visible' });
      assert.match((await forbidden.innerText()).trim(), /\w{3,}/, 'the no-access message says something');
      await s.screenshot('application-user-forbidden');
      assert.equal(await page.locator('main[data-testid^="page-business-"][data-state="ready"]').count(), 0, 'no Business page shown');
      assert.equal(await page.locator('[data-testid^="kpi-"][data-value]').count(), 0, 'no Business figures shown');

      // The API, with their session cookie.
      const denied = await page.request.get(s.url('/api/v1/traffic/summary?view=business'));
      assert.equal(denied.status(), 403, 'traffic/summary?view=business');
      const allowed = await page.request.get(s.url('/api/v1/traffic/summary?view=application'));
      assert.equal(allowed.status(), 200, 'traffic/summary?view=application');
    });
  });

  test('URL state: preset survives a reload and a copied link; Local/UTC', async (t) => {
    if (skipped(t, true)) return;
    const nav = await adminNav();
    let copied;
    let shown;
    const opts = { timezoneId: 'Asia/Tokyo' }; // local time is not UTC here (UTC+9, no DST)
    await withSession(
      browser,
      server.base,
      async (s) => {
        const { page } = s;
        await s.loginAPI(server.admin);
        await page.goto(nav[0].href);
        await s.settled();
        await page.locator('[data-testid="range-button"]').click();
        await page.locator('[data-testid="preset-last-7-days"]').click();
        await page.waitForURL((u) => appParams(u.toString()).get('range') === 'last-7-days');
        await s.settled();
        const rangeText = async () => (await page.locator('[data-testid="range-button"]').innerText()).trim();
        const label = await rangeText();
        assert.match(label, /last 7 days/i, `the picker's button names the range: "${label}"`);
        const before = { url: page.url(), kpis: await readKPIs(page) };

        await page.reload();
        const { id } = await s.settled();
        assert.equal(appParams(page.url()).get('range'), 'last-7-days', 'the range is in the URL after a reload');
        assert.match(await rangeText(), /last 7 days/i, 'the picker shows the same range after a reload');
        await page.locator('[data-testid="range-button"]').click();
        const preset = page.locator('[data-testid="preset-last-7-days"]');
        const selected = await preset.evaluate(
          (e) =>
            ['aria-selected', 'aria-checked', 'aria-pressed', 'aria-current'].some((a) => ['true', 'page', 'date'].includes(e.getAttribute(a) || '')) ||
            /\b(on|active|selected)\b/.test(e.className),
        );
        assert.ok(selected, 'the picker marks Last 7 Days as selected (an aria-selected/checked/pressed/current, or class on/active/selected)');
        await page.keyboard.press('Escape');
        copied = page.url();
        shown = { id, kpis: before.kpis, label };

        // Local/UTC: the times shown (the range's, in the picker's button)
        // name their zone, and change with it.
        const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
        await page.goto(withParams(copied, { tz: 'local' }));
        await s.settled();
        const localText = await rangeText();
        assert.ok(localText.includes(zone), `with tz=local the times are labelled ${zone}: "${localText}"`);
        const utcButton = page.locator('[data-testid="tz-utc"], [data-testid="tz-toggle"]').first();
        assert.equal(await utcButton.count(), 1, 'a Local/UTC toggle (data-testid tz-utc or tz-toggle)');
        await utcButton.click();
        await page.waitForURL((u) => appParams(u.toString()).get('tz') === 'utc');
        await s.settled();
        const utcText = await rangeText();
        assert.ok(/\bUTC\b/.test(utcText) && !utcText.includes(zone), `with tz=utc the times are labelled UTC: "${utcText}"`);
        assert.notEqual(utcText.replace(/UTC|\S+\/\S+/g, ''), localText.replace(/UTC|\S+\/\S+/g, ''), 'the times themselves change (9 hours apart)');
        await page.reload();
        await s.settled();
        assert.match(await rangeText(), /\bUTC\b/, 'UTC survives a reload');
      },
      opts,
    );

    // The copied link in a fresh context (after login) shows the same view.
    await withSession(
      browser,
      server.base,
      async (s) => {
        await s.loginAPI(server.admin);
        await s.page.goto(copied);
        const { id } = await s.settled();
        assert.equal(id, shown.id, 'the same page');
        assert.match((await s.page.locator('[data-testid="range-button"]').innerText()).trim(), /last 7 days/i, 'the same range');
        assert.deepEqual(await readKPIs(s.page), shown.kpis, 'the same figures');
      },
      opts,
    );
  });

  test('CSRF: a POST with the session cookie but no X-CSRF-Token is 403', async (t) => {
    if (skipped(t, true)) return;
    await withSession(browser, server.base, async (s) => {
      await s.loginForm(server.admin);
      await s.settled();
      const data = { name: 'csrf-browser', password: 'pw-csrf-browser-1234', roles: ['api_analytics:view'] };
      const res = await s.page.request.post(s.url('/api/v1/users'), { data });
      assert.equal(res.status(), 403, `POST /api/v1/users without the token: ${await res.text()}`);
      const cookies = await s.context.cookies(s.base);
      const csrf = cookies.find((c) => c.name === 'apilens_csrf');
      const session = cookies.find((c) => c.name === 'apilens_session');
      assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
      assert.equal(session?.sameSite, 'Strict');
      assert.ok(csrf, 'the apilens_csrf cookie is set');
      const users = await server.json('/api/v1/users');
      assert.ok(!users.users.some((u) => u.name === 'csrf-browser'), 'the user was not created');
    });
  });
});

/**
 * A table's rows: [{key, requests}] from tr[data-key] and the Requests
 * column's data-value; .sortedByRequests when that column sorts descending.
 */
async function readRows(page, testid) {
  const r = await page.locator(`[data-testid="${testid}"]`).first().evaluate((table) => {
    const heads = [...table.querySelectorAll('thead th')];
    let col = heads.findIndex((th) => th.dataset.column === 'requests' || th.dataset.key === 'requests');
    if (col < 0) col = heads.findIndex((th) => /^\s*requests\b/i.test(th.textContent || ''));
    const sorted = col >= 0 && heads[col].getAttribute('aria-sort') === 'descending';
    const rows = [...table.querySelectorAll('tbody tr[data-key], tr[data-key]')].filter((tr, i, all) => all.indexOf(tr) === i);
    return {
      sorted,
      rows: rows.map((tr) => {
        const cell = col >= 0 ? tr.children[col] : null;
        const v = cell?.getAttribute('data-value');
        return { key: tr.dataset.key, requests: v === undefined || v === null || v === '' ? undefined : Number(v) };
      }),
    };
  });
  const rows = r.rows;
  rows.sortedByRequests = r.sorted;
  return rows;
}
