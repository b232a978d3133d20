// End-to-end tests of the LOG ANALYZER pages (issue 4, seeds 000/001): a real
// server of its own seeded with simulated gateway logs (two gateways' carbon
// logs over a week), a few lines posted by hand, and Debian's headless
// chromium driven by playwright-core. The Access Token Errors page is walked
// through as the seed describes it: a range (custom, then Last 30 Days), the
// exact count on hovering a bar, a click on it, the records sorted both ways
// and paged, the Log Viewer with the 100 lines before and after the chosen
// one; then the live tail, the other pages' figures and screenshots of all.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { APILENS_BIN, ARTIFACTS, IN_CI, UI_NOT_BUILT, checkBinary, checkChromium } from '../lib/env.js';
import { ApilensServer } from '../lib/server.js';
import { launchBrowser, withSession, withParams, appParams } from '../lib/browser.js';
import { allRecords, barRows, carbonLine, getJSON, hoverBar, iso, postCarbon, seedLogs } from '../lib/logs.js';

let server; // ApilensServer
let browser; // playwright Browser
let missingMsg = null; // why nothing here can run (no binary, chromium or built UI)
let logs; // the seeded window {from, to, fromISO, toISO, lines}
let range; // the fixed custom range the pages are opened with: {from, to} (RFC 3339)
let wide; // a fixed range holding every record posted before the tests: {from, to}

const TOKEN_PAGE = '/loganalyzer/token-errors';
const PAGES = ['overview', 'app-errors', 'deployments', 'login-errors', 'api-failures', 'token-errors', 'live'];
// API failures of a third gateway: [API, lines, message].
const FAILURES = [
  ['admin--PizzaShackAPI:v1.0.0', 4, 'Error while building message'],
  ['e2e--OrdersAPI:v2.0.0', 3, 'Error while building Passthrough stream'],
  ['e2e--WeatherAPI:v1.0.0', 2, 'Error while building message'],
];
// Raw lines no carbon layout matches (kept as unparsed records).
const GARBAGE = ['%%% not a log line %%%', 'random text without a timestamp', '<html>502 Bad Gateway</html>'];

function missing(err) {
  if (IN_CI) throw new Error(`${err.message} (CI=true, so this fails rather than skips)`);
  console.log(`skipping: ${err.message}`);
  return err;
}

before(async () => {
  const noBin = checkBinary();
  if (noBin) {
    missingMsg = missing(noBin);
    return;
  }
  server = new ApilensServer(APILENS_BIN);
  await server.start();
  const t0 = Date.now();
  // 3,000 simulated calls' log lines over the week before the last whole
  // hour: ~45,000 records in gw-1 and gw-2, a few hundred of them
  // access-token errors, so a source has far more than 201 records around
  // any record of the middle days.
  logs = await seedLogs(server, { seed: 7, count: 3000, days: 7 });
  // Lines no layout matches; stored with the time they arrived.
  const junk = await postCarbon(server, 'e2e-junk', GARBAGE);
  assert.equal(junk.unparsed, GARBAGE.length, `the garbage lines are kept as unparsed records: ${JSON.stringify(junk)}`);
  // The middle five days: no record there is near a source's ends.
  range = { from: iso(new Date(logs.from.getTime() + 24 * 3600e3)), to: iso(new Date(logs.to.getTime() - 24 * 3600e3)) };
  wide = { from: logs.fromISO, to: iso(new Date(Math.ceil(Date.now() / 3600e3) * 3600e3 + 3600e3)) };
  // API failures are rare in the simulated logs (a few a week, often of one
  // API): a third gateway's log adds some of three APIs in the middle days.
  const failures = [];
  const at0 = Date.parse(range.from) + 48 * 3600e3;
  // In time order: each API ten 7-minute steps after the one before.
  FAILURES.forEach(([api, n, message], k) => {
    for (let i = 0; i < n; i++) failures.push(carbonLine(new Date(at0 + (k * 10 + i) * 7 * 60e3), 'ERROR', `API_LOGGER.${api}`, `${message}. Read timed out (e2e)`));
  });
  const posted = await postCarbon(server, 'e2e-gw', failures);
  assert.equal(posted.accepted, failures.length, `the API failure lines are stored: ${JSON.stringify(posted)}`);
  console.log(`# server ${server.base}, ${logs.lines} log lines over ${logs.fromISO} … ${logs.toISO}, seeded in ${Date.now() - t0} ms; range ${range.from} … ${range.to}`);
  let noBrowser = checkChromium();
  if (!noBrowser && !(await server.uiBuilt())) noBrowser = UI_NOT_BUILT;
  if (noBrowser) {
    missingMsg = missing(noBrowser);
    return;
  }
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

function skipped(t) {
  if (missingMsg) t.skip(missingMsg.message);
  return Boolean(missingMsg);
}

/** Opens an app path with query parameters; fails unless the server answers the app. */
async function open(s, path, params = {}, waitUntil = 'load') {
  const res = await s.page.goto(withParams(s.url(path), params), { waitUntil });
  if (res && !res.ok()) throw new Error(`opening ${path}: HTTP ${res.status()}`);
}

/** The records of a table: [{id, timestamp, status, api}] from tr[data-key] and td[data-value]. */
async function tableRecords(page, testid) {
  return page.locator(`[data-testid="${testid}"] tbody tr[data-key]`).evaluateAll((trs) =>
    trs.map((tr) => {
      const v = (c) => tr.querySelector(`td[data-column="${c}"]`)?.getAttribute('data-value') ?? undefined;
      return { id: tr.dataset.key, timestamp: v('timestamp'), status: v('status'), api: v('api') };
    }),
  );
}

/** Waits until a records table shows other rows than `before` (ids joined) and is not loading. */
async function tableChanged(page, testid, before) {
  await page.waitForFunction(
    ({ testid, before }) => {
      const t = document.querySelector(`[data-testid="${testid}"]`);
      if (!t) return false;
      const ids = [...t.querySelectorAll('tbody tr[data-key]')].map((tr) => tr.dataset.key).join(',');
      return ids !== '' && ids !== before;
    },
    { testid, before },
  );
}

const ids = (rows) => rows.map((r) => r.id).join(',');

function assertSorted(rows, order, what) {
  for (let i = 1; i < rows.length; i++) {
    const a = Date.parse(rows[i - 1].timestamp);
    const b = Date.parse(rows[i].timestamp);
    assert.ok(Number.isFinite(a) && Number.isFinite(b), `${what}: RFC 3339 timestamps (${rows[i - 1].timestamp}, ${rows[i].timestamp})`);
    assert.ok(order === 'asc' ? a <= b : a >= b, `${what}: rows ${i - 1} and ${i} out of ${order} order: ${rows[i - 1].timestamp}, ${rows[i].timestamp}`);
  }
}

/**
 * A full-page screenshot from the top of the page: scrolled, the sticky top
 * bar would be drawn where the window was, across the content.
 */
async function shot(s, name) {
  const t0 = Date.now();
  // A key press, as a reader's, ends the Log Viewer's keeping its line in
  // sight while the page settles (it would scroll back to it).
  await s.page.keyboard.press('Shift');
  await s.page.evaluate(() => window.scrollTo(0, 0));
  const path = await s.screenshot(name);
  if (process.env.E2E_TIMING) console.log(`timing screenshot ${name}: ${Date.now() - t0} ms`);
  return path;
}

/** The label the app gives a status's bar: "Status (code)". */
const barLabel = (s) => (s.code ? `${s.status} (${s.code})` : s.status);

describe('log analyzer in chromium', () => {
  test('the seeded logs are stored and classified (API)', async (t) => {
    if (skipped(t)) return;
    const counts = await getJSON(server, '/api/v1/loganalyzer/counts', wide);
    const total = counts.counts.reduce((a, c) => a + c.count, 0);
    assert.ok(total >= logs.lines * 0.5, `counts hold the posted lines (${total} records for ${logs.lines} lines; continuation lines join the record above)`);
    const unparsed = counts.counts.filter((c) => c.parsed === false).reduce((a, c) => a + c.count, 0);
    assert.equal(unparsed, GARBAGE.length, 'the garbage lines are counted as unparsed');
    const cats = new Set(counts.counts.map((c) => c.category));
    for (const c of ['access_token', 'login', 'app_error', 'api_deployed', 'api_failure']) assert.ok(cats.has(c), `records of category ${c}`);
    const te = await getJSON(server, '/api/v1/loganalyzer/token-errors', range);
    assert.ok(te.statuses.length >= 3 && te.statuses[0].count > 25, `several access-token statuses in the range, the first with enough records to page: ${JSON.stringify(te.statuses.slice(0, 3))}`);
  });

  test('Access Token Errors: hover, click, sort, page, Log Viewer, compare, reload, Last 30 Days', async (t) => {
    if (skipped(t)) return;
    const te = await getJSON(server, '/api/v1/loganalyzer/token-errors', range);
    // The status with the most records (several pages of them).
    const chosen = [...te.statuses].sort((a, b) => b.count - a.count)[0];
    const label = barLabel(chosen);
    const timings = {};
    const mark = (k, t0) => {
      timings[k] = Date.now() - t0;
      if (process.env.E2E_TIMING) console.log(`timing ${k}: ${timings[k]} ms`);
    };
    await withSession(
      browser,
      server.base,
      async (s) => {
        const { page } = s;
        await s.loginAPI(server.admin);
        let t0 = Date.now();
        await open(s, TOKEN_PAGE, { from: range.from, to: range.to, refresh: 'off', tz: 'utc' });
        const { id, state } = await s.settled();
        assert.equal(id, 'page-loganalyzer-token-errors');
        assert.equal(state, 'ready');
        mark('open', t0);
        assert.equal(appParams(page.url()).get('from'), range.from, 'the URL keeps the custom range');
        await page.locator('[data-testid="panel-token-records"] [data-testid="token-records-hint"]').waitFor();

        // Every status's button has the API's count.
        const buttons = await page.locator('[data-testid^="token-status-"]').evaluateAll((bs) => bs.map((b) => ({ status: b.dataset.status, code: b.dataset.code, count: Number(b.dataset.count) })));
        assert.deepEqual(
          buttons.map((b) => `${b.status}|${b.code}|${b.count}`).sort(),
          te.statuses.filter((x) => x.count > 0).map((x) => `${x.status}|${x.code}|${x.count}`).sort(),
          'the status buttons under the chart are the API statuses with their counts',
        );
        const tokenTotal = await page.locator('[data-testid="kpi-token-total"]').getAttribute('data-value');
        assert.equal(Number(tokenTotal), te.statuses.reduce((a, x) => a + x.count, 0), 'kpi-token-total is the sum of the statuses');

        // Hover the chosen status's bar on the canvas: the tooltip has its exact count.
        t0 = Date.now();
        const tip = await hoverBar(page, 'chart-token-status', label, { all: true });
        mark('hover', t0);
        assert.equal(tip.rows.length, buttons.length, `one bar per status under the pointer: ${tip.rows.map((r) => r.name).join(' | ')}`);
        assert.equal(tip.values.length, 1, `one figure in the tooltip: ${JSON.stringify(tip)}`);
        assert.equal(tip.values[0].value, chosen.count, `hovering "${label}" shows ${tip.values[0].text}; the API counts ${chosen.count}`);
        // Every other bar's tooltip too (the rows were read on the way down).
        for (const r of tip.rows) {
          const want = te.statuses.find((x) => barLabel(x) === r.name);
          assert.ok(want, `a bar "${r.name}" the API does not have`);
        }
        // Bars are in order, most first.
        const order = tip.rows.map((r) => te.statuses.find((x) => barLabel(x) === r.name).count);
        assert.deepEqual(order, [...order].sort((a, b) => b - a), 'the bars are sorted, most first');
        // What is on the screen (the tooltip over the bar), not the whole page.
        await page.screenshot({ path: join(ARTIFACTS, 'loganalyzer-token-errors-hover.png'), animations: 'disabled' });

        // Click the bar: status= in the URL, and the API Key Status table fills.
        t0 = Date.now();
        await page.mouse.click(tip.x, tip.y);
        await page.waitForURL((u) => appParams(u.toString()).get('status') === chosen.status);
        const table = 'table-token-records';
        await page.locator(`[data-testid="${table}"] tbody tr[data-key]`).first().waitFor();
        mark('click', t0);
        assert.equal(await page.locator(`[data-testid^="token-status-"][aria-pressed="true"]`).getAttribute('data-status'), chosen.status, 'the chosen status is marked pressed');
        let rows = await tableRecords(page, table);
        assert.ok(rows.length > 0);
        for (const r of rows) assert.equal(r.status, chosen.status, `record ${r.id}: status ${r.status}, chosen ${chosen.status}`);
        const q = { status: chosen.status, from: range.from, to: range.to, limit: 25 };
        const apiFirst = async (order) => (await getJSON(server, '/api/v1/loganalyzer/token-errors/records', { ...q, order })).records;
        // The default order is newest first.
        assert.equal(await page.locator(`[data-testid="${table}"]`).getAttribute('data-order'), 'desc');
        assertSorted(rows, 'desc', 'default order');
        assert.deepEqual(ids(rows), ids((await apiFirst('desc')).map((r) => ({ id: String(r.id) }))), 'the first page is the API first page, newest first');

        // Sort by timestamp both ways (on the server: the first row is the API's first record for that order).
        t0 = Date.now();
        for (const order of ['asc', 'desc']) {
          const before = ids(rows);
          await page.locator(`[data-testid="${table}"] [data-testid="sort-timestamp"]`).click();
          await page.waitForURL((u) => appParams(u.toString()).get('order') === order);
          await page.locator(`[data-testid="${table}"][data-order="${order}"]`).waitFor();
          await tableChanged(page, table, before);
          rows = await tableRecords(page, table);
          assertSorted(rows, order, `sorted ${order}`);
          const api = await apiFirst(order);
          assert.equal(rows[0].id, String(api[0].id), `${order}: the first row is the API's first record (${api[0].timestamp})`);
          assert.equal(Date.parse(rows[0].timestamp), Date.parse(api[0].timestamp), `${order}: the first row's timestamp`);
          assert.deepEqual(ids(rows), api.map((r) => r.id).join(','), `${order}: the page is the API's page`);
          const aria = await page.locator(`[data-testid="${table}"] th[data-column="timestamp"]`).getAttribute('aria-sort');
          assert.equal(aria, order === 'asc' ? 'ascending' : 'descending', 'aria-sort says the order');
        }
        mark('sort', t0);

        // Page through all of them with next: no record repeats, and together
        // they are the status's count.
        t0 = Date.now();
        const seen = new Map();
        const pages = [];
        for (let i = 0; ; i++) {
          rows = await tableRecords(page, table);
          pages.push(rows.length);
          for (const r of rows) {
            assert.ok(!seen.has(r.id), `record ${r.id} repeats on page ${i + 1} (first seen on page ${seen.get(r.id)})`);
            seen.set(r.id, i + 1);
            assert.equal(r.status, chosen.status);
          }
          const next = page.locator(`[data-testid="token-records-next"]`);
          if (await next.isDisabled()) break;
          assert.ok(i < 50, 'at most 50 pages');
          await next.click();
          await tableChanged(page, table, ids(rows));
        }
        mark('paging', t0);
        assert.ok(pages.length >= 2, `more than one page (${pages.join('+')})`);
        assert.equal(seen.size, chosen.count, `the pages (${pages.join('+')}) hold every record of the status once`);
        const all = await allRecords(server, '/api/v1/loganalyzer/token-errors/records', { status: chosen.status, from: range.from, to: range.to, order: 'desc' });
        assert.deepEqual([...seen.keys()].sort(), all.map((r) => String(r.id)).sort(), 'the records paged are the API records');
        // Back to the first page.
        for (let i = pages.length - 1; i > 0; i--) {
          const before = ids(await tableRecords(page, table));
          await page.locator(`[data-testid="token-records-prev"]`).click();
          await tableChanged(page, table, before);
        }
        assert.ok(await page.locator(`[data-testid="token-records-prev"]`).isDisabled(), 'prev is disabled on the first page');

        // View a record: the Log Viewer with the 100 lines before and after it.
        t0 = Date.now();
        rows = await tableRecords(page, table);
        const pick = rows[Math.min(3, rows.length - 1)];
        await page.locator(`[data-testid="view-${pick.id}"]`).click();
        await page.waitForURL((u) => appParams(u.toString()).get('record') === pick.id);
        const lines = page.locator('[data-testid="log-viewer"] [data-testid="log-lines"]');
        await lines.waitFor();
        await page.locator('[data-testid="log-line"][data-selected="true"]').waitFor();
        mark('viewer', t0);
        const viewer = await checkViewer(page, pick.id);
        assert.ok(viewer.lines.some((l) => l.level === 'ERROR') && viewer.lines.some((l) => l.level === 'INFO'), 'the window holds lines of several levels');
        await shot(s, 'loganalyzer-token-errors-viewer');

        // The comparison with the previous period.
        await page.locator('[data-testid="compare-toggle"]').click();
        await page.waitForURL((u) => appParams(u.toString()).get('compare') === 'previous');
        await page.locator('[data-testid="chart-token-compare"] .chart').waitFor();
        assert.equal(await page.locator('[data-testid="compare-toggle"]').getAttribute('aria-pressed'), 'true');
        const prev = await getJSON(server, '/api/v1/loganalyzer/token-errors', { ...range, compare: 'previous' });
        const ctip = await hoverBar(page, 'chart-token-compare', label, { xFrac: 0.75 });
        const prevOf = prev.previous.statuses.find((x) => x.status === chosen.status)?.count ?? 0;
        assert.deepEqual(
          ctip.values.map((v) => v.value),
          [chosen.count, prevOf],
          `the comparison's tooltip for "${label}": this period ${chosen.count}, the one before ${prevOf} (${JSON.stringify(ctip.values)})`,
        );

        // A reload keeps the selection: status, record (and the order, the comparison).
        await page.reload();
        await s.settled();
        const p = appParams(page.url());
        assert.equal(p.get('status'), chosen.status, 'status= survives a reload');
        assert.equal(p.get('record'), pick.id, 'record= survives a reload');
        assert.equal(p.get('compare'), 'previous', 'compare= survives a reload');
        await page.locator('[data-testid="log-line"][data-selected="true"]').waitFor();
        await page.locator(`[data-testid="${table}"] tbody tr[data-key]`).first().waitFor();
        assert.equal(await page.locator(`[data-testid="${table}"] tr[data-key="${pick.id}"]`).getAttribute('aria-selected'), 'true', 'the record is marked in the table after a reload');
        assert.equal(await page.locator('[data-testid="status-filter"] strong').innerText(), chosen.status, 'the status chip after a reload');
        await checkViewer(page, pick.id);
        await page.locator('[data-testid="chart-token-compare"] .chart').waitFor();

        // Close the viewer; Last 30 Days from the picker.
        await page.locator('[data-testid="log-viewer-close"]').click();
        await page.waitForURL((u) => !appParams(u.toString()).get('record'));
        assert.equal(await page.locator('[data-testid="log-viewer"]').count(), 0, 'the viewer closes');
        const asked = [];
        page.on('request', (r) => {
          const u = new URL(r.url());
          if (u.pathname === '/api/v1/loganalyzer/token-errors') asked.push(u.searchParams);
        });
        await page.locator('[data-testid="range-button"]').click();
        await page.locator('[data-testid="preset-last-30-days"]').click();
        await page.waitForURL((u) => appParams(u.toString()).get('range') === 'last-30-days');
        await s.settled();
        assert.match((await page.locator('[data-testid="range-button"]').innerText()).trim(), /last 30 days/i, "the picker's button names the range");
        await page.waitForFunction(() => document.querySelectorAll('[data-testid^="token-status-"]').length > 0);
        assert.ok(asked.length > 0, 'the page asked the API for the new range');
        const last = asked[asked.length - 1];
        const days = (Date.parse(last.get('to')) - Date.parse(last.get('from'))) / 86400e3;
        assert.ok(Math.abs(days - 30) < 0.01, `Last 30 Days asks for 30 days (${last.get('from')} … ${last.get('to')})`);
        const te30 = await getJSON(server, '/api/v1/loganalyzer/token-errors', { from: last.get('from'), to: last.get('to') });
        const c30 = te30.statuses.find((x) => x.status === chosen.status);
        assert.ok(c30.count > chosen.count, `the month holds more "${chosen.status}" records (${c30.count}) than the middle days (${chosen.count})`);
        // The status stays chosen; its bar's tooltip has the month's count.
        assert.equal(appParams(page.url()).get('status'), chosen.status, 'the status stays chosen with another range');
        const tip30 = await hoverBar(page, 'chart-token-status', label);
        assert.equal(tip30.values[0].value, c30.count, `Last 30 Days: hovering "${label}" shows ${tip30.values[0].text}; the API counts ${c30.count}`);
        const pressed = page.locator('[data-testid^="token-status-"][aria-pressed="true"]');
        assert.equal(Number(await pressed.getAttribute('data-count')), c30.count, 'the status button has the month count');
      },
      { colorScheme: 'dark' },
    );
    console.log(`token errors: "${label}" (${chosen.count} records); ms: ${JSON.stringify(timings)}`);
  });

  test('API Failures and Deployments: clicking an API bar filters the records by that API', async (t) => {
    if (skipped(t)) return;
    const counts = (await getJSON(server, '/api/v1/loganalyzer/counts', range)).counts;
    const cases = [
      { page: 'api-failures', chart: 'chart-api-failures-api', table: 'table-api-failures-records', categories: ['api_failure'] },
      { page: 'deployments', chart: 'chart-deployments-api', table: 'table-deployment-records', categories: ['api_deployed'] },
    ];
    await withSession(browser, server.base, async (s) => {
      const { page } = s;
      await s.loginAPI(server.admin);
      for (const c of cases) {
        const per = new Map();
        for (const x of counts) if (c.categories.includes(x.category) && x.api) per.set(x.api, (per.get(x.api) ?? 0) + x.count);
        assert.ok(per.size > 1, `${c.page}: records of more than one API`);
        await open(s, `/loganalyzer/${c.page}`, { from: range.from, to: range.to, refresh: 'off' });
        await s.settled();
        await page.locator(`[data-testid="${c.table}"] tbody tr[data-key]`).first().waitFor();
        const bars = await barRows(page, c.chart);
        assert.ok(bars.length > 1, `${c.chart}: bars under the pointer`);
        // The second bar: not the one at the top, to be sure the click picks its row.
        const bar = bars[1];
        assert.ok(per.has(bar.name), `${c.chart}: "${bar.name}" is an API of the counts`);
        const before = ids(await tableRecords(page, c.table));
        await page.mouse.click(bar.x, bar.y);
        await page.waitForURL((u) => appParams(u.toString()).get('logapi') === bar.name);
        await page.locator('[data-testid="api-filter"]').waitFor();
        await tableChanged(page, c.table, before);
        const rows = await tableRecords(page, c.table);
        for (const r of rows) assert.equal(r.api, bar.name, `${c.page}: record ${r.id} of ${r.api}, filtered by ${bar.name}`);
        const api = await allRecords(server, '/api/v1/loganalyzer/records', { category: c.categories[0], api: bar.name, from: range.from, to: range.to, order: 'desc' });
        assert.equal(api.length, per.get(bar.name), `${c.page}: records?api= holds the API's count`);
        assert.deepEqual(ids(rows), api.slice(0, 25).map((r) => r.id).join(','), `${c.page}: the table is the API's first page for ${bar.name}`);
        await shot(s, `loganalyzer-${c.page}-by-api`);
        await page.locator('[data-testid="clear-api"]').click();
        await page.waitForURL((u) => !appParams(u.toString()).get('logapi'));
      }
    });
  });

  test('every log analyzer page settles; figures on the overview; screenshots (dark, and token errors light)', async (t) => {
    if (skipped(t)) return;
    const te = await getJSON(server, '/api/v1/loganalyzer/token-errors', range);
    const chosen = [...te.statuses].sort((a, b) => b.count - a.count)[0];
    const rec = (await getJSON(server, '/api/v1/loganalyzer/token-errors/records', { status: chosen.status, ...range, order: 'desc', limit: 10 })).records[5];
    const tokenParams = { status: chosen.status, record: String(rec.id) };
    const counts = (await getJSON(server, '/api/v1/loganalyzer/counts', wide)).counts;
    const sum = (f) => counts.filter(f).reduce((a, c) => a + c.count, 0);
    const failures = [];
    const states = [];
    await withSession(
      browser,
      server.base,
      async (s) => {
        await s.context.addInitScript(() => localStorage.setItem('apilens-theme', 'dark'));
        await s.loginAPI(server.admin);
        for (const p of PAGES) {
          const seen = s.errors.length;
          try {
            const params = p === 'live' ? {} : { from: wide.from, to: wide.to, refresh: 'off', tz: 'utc', ...(p === 'token-errors' ? tokenParams : {}) };
            // The live page holds an event stream open: never wait for the network there.
            await open(s, `/loganalyzer/${p}`, params, p === 'live' ? 'domcontentloaded' : 'load');
            await s.page.locator(`main[data-testid="page-loganalyzer-${p}"]`).waitFor({ state: 'attached' });
            const { state } = await s.settled();
            states.push(`${p}:${state}`);
            assert.equal(state, 'ready', `${p} has the seeded logs`);
            assert.equal(await s.page.evaluate(() => document.documentElement.dataset.theme), 'dark');
            if (p === 'overview') {
              const kpi = async (n) => Number(await s.page.locator(`[data-testid="kpi-${n}"]`).getAttribute('data-value'));
              assert.equal(await kpi('records'), sum(() => true), 'kpi-records');
              assert.equal(await kpi('unparsed'), GARBAGE.length, 'kpi-unparsed: the raw lines');
              assert.equal(await kpi('unclassified'), sum((c) => c.category === '' && c.parsed), 'kpi-unclassified: parsed records no rule matched');
              assert.equal(await kpi('access-token-errors'), sum((c) => c.category === 'access_token'), 'kpi-access-token-errors');
              assert.equal(await kpi('app-errors'), sum((c) => c.category === 'app_error'), 'kpi-app-errors');
              assert.equal(await kpi('login-failures'), sum((c) => c.category === 'login'), 'kpi-login-failures');
              assert.equal(await kpi('api-failures'), sum((c) => c.category === 'api_failure'), 'kpi-api-failures');
              // The unparsed tile sits next to the unclassified one.
              const order = await s.page.locator('[data-testid^="kpi-"]').evaluateAll((ks) => ks.map((k) => k.dataset.testid));
              assert.equal(order.indexOf('kpi-unparsed'), order.indexOf('kpi-unclassified') + 1, `kpi-unparsed follows kpi-unclassified: ${order.join(' ')}`);
            }
            if (p === 'token-errors') {
              await s.page.locator('[data-testid="log-line"][data-selected="true"]').waitFor();
              await checkViewer(s.page, String(rec.id));
            } else if (p !== 'live' && p !== 'overview') {
              // Records tables have rows.
              await s.page.locator('table.records tbody tr[data-key]').first().waitFor();
            }
            if (p === 'live') await s.page.locator('[data-testid="live-status"][data-status="live"]').waitFor();
          } catch (e) {
            failures.push(`${p}: ${e.message.split('\n').slice(0, 3).join(' ')}`);
            states.push(`${p}:FAILED`);
          }
          await shot(s, `loganalyzer-${p}`);
          for (const err of s.errors.slice(seen)) failures.push(`${p}: ${err}`);
        }
        s.errors = []; // reported below, page by page
      },
      { colorScheme: 'dark' },
    );
    await withSession(
      browser,
      server.base,
      async (s) => {
        await s.context.addInitScript(() => localStorage.setItem('apilens-theme', 'light'));
        await s.loginAPI(server.admin);
        await open(s, TOKEN_PAGE, { from: range.from, to: range.to, refresh: 'off', tz: 'utc', ...tokenParams, compare: 'previous' });
        await s.settled();
        assert.equal(await s.page.evaluate(() => document.documentElement.dataset.theme), 'light');
        await s.page.locator('[data-testid="log-line"][data-selected="true"]').waitFor();
        await s.page.locator('[data-testid="chart-token-compare"] .chart').waitFor();
        await shot(s, 'loganalyzer-token-errors-light');
      },
      { colorScheme: 'light' },
    );
    console.log(`log analyzer pages: ${states.join(' ')}`);
    assert.deepEqual(failures, [], `${failures.length} page(s) failed:\n  ${failures.join('\n  ')}`);
  });

  test('Live: lines posted after the page opened appear', async (t) => {
    if (skipped(t)) return;
    await withSession(browser, server.base, async (s) => {
      const { page } = s;
      await s.loginAPI(server.admin);
      // The live page holds an event stream open: never wait for the network there.
      await open(s, '/loganalyzer/live', {}, 'domcontentloaded');
      await s.settled();
      await page.locator('[data-testid="live-status"][data-status="live"]').waitFor();
      const count0 = Number(await page.locator('[data-testid="live-count"]').getAttribute('data-value'));
      const tag = `e2e-live-${Date.now().toString(36)}`;
      const now = new Date();
      const lines = [
        carbonLine(now, 'INFO', 'org.wso2.carbon.core.internal.StartupFinalizerServiceComponent', `${tag} first line`),
        carbonLine(new Date(now.getTime() + 1), 'WARN', 'org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler', `API authentication failure due to Invalid Credentials ${tag}`),
        carbonLine(new Date(now.getTime() + 2), 'ERROR', 'org.apache.synapse.transport.passthru.TargetHandler', `${tag} third line: connection reset`),
        'java.io.IOException: Connection reset by peer',
        `\tat ${tag}.Example.method(Example.java:42)`,
      ];
      const ans = await postCarbon(server, 'e2e-live', lines);
      assert.equal(ans.accepted, 3, `three records (the trace joins the third): ${JSON.stringify(ans)}`);
      const mine = page.locator('[data-testid="live-lines"] [data-testid="log-line"]', { hasText: tag });
      await page.waitForFunction((tag) => [...document.querySelectorAll('[data-testid="live-lines"] [data-testid="log-line"]')].filter((l) => l.textContent.includes(tag)).length === 3, tag);
      const levels = await mine.evaluateAll((ls) => ls.map((l) => l.dataset.level));
      assert.deepEqual(levels, ['INFO', 'WARN', 'ERROR'], 'the lines in order, with their levels');
      const trace = await mine.nth(2).innerText();
      assert.match(trace, /Connection reset by peer/, 'the stack trace joined its record');
      const count1 = Number(await page.locator('[data-testid="live-count"]').getAttribute('data-value'));
      assert.ok(count1 >= count0 + 3, `live-count grew from ${count0} to ${count1}`);
      await mine.nth(2).evaluate((el) => el.scrollIntoView({ block: 'nearest' }));
      await shot(s, 'loganalyzer-live-lines');
    }, { colorScheme: 'dark' });
  });
});

/**
 * Checks the Log Viewer around record `id`: exactly the 100 lines before and
 * after it (the API's context, in order), the chosen line highlighted and in
 * sight, every line with its level. Returns {lines}.
 */
async function checkViewer(page, id) {
  const ctx = await getJSON(server, `/api/v1/logs/${id}/context`, { before: 100, after: 100 });
  assert.equal(ctx.before.length, 100, `the API has 100 records before ${id} in ${ctx.record.source}`);
  assert.equal(ctx.after.length, 100, `the API has 100 records after ${id} in ${ctx.record.source}`);
  const box = page.locator('[data-testid="log-viewer"] [data-testid="log-lines"]');
  const attrs = await box.evaluate((b) => ({ before: b.dataset.before, after: b.dataset.after, record: b.dataset.record }));
  assert.deepEqual(attrs, { before: '100', after: '100', record: String(id) }, 'log-lines says 100 before and after the record');
  const lines = await box.locator('[data-testid="log-line"]').evaluateAll((ls) =>
    ls.map((l) => ({ id: l.dataset.id, level: l.getAttribute('data-level'), selected: l.dataset.selected === 'true' })),
  );
  assert.equal(lines.length, 201, 'the viewer shows 201 lines');
  const sel = lines.map((l, i) => (l.selected ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(sel, [100], 'one line is selected, the 101st');
  assert.equal(lines[100].id, String(id), 'the selected line is the record');
  assert.deepEqual(
    lines.map((l) => l.id),
    [...ctx.before, ctx.record, ...ctx.after].map((r) => String(r.id)),
    "the lines are the API's context, in order",
  );
  for (const l of lines) assert.ok(l.level !== null, `line ${l.id} carries data-level`);
  for (const [i, r] of [...ctx.before, ctx.record, ...ctx.after].entries()) assert.equal(lines[i].level, r.level, `line ${r.id}'s data-level`);
  // In sight: inside the scrolled box and inside the window.
  const seen = await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid="log-line"][data-selected="true"]');
    const b = s?.closest('[data-testid="log-lines"]');
    if (!s || !b) return false;
    const r = s.getBoundingClientRect();
    const br = b.getBoundingClientRect();
    const inBox = r.top >= br.top - 1 && r.bottom <= br.bottom + 1;
    const inWindow = r.top >= 0 && r.bottom <= window.innerHeight;
    return inBox && inWindow && b.scrollTop > 0 ? { top: r.top, box: [br.top, br.bottom], scrollTop: b.scrollTop } : false;
  });
  assert.ok(await seen.jsonValue(), 'the selected line is in view');
  const selStyle = await page.locator('[data-testid="log-line"][data-selected="true"]').evaluate((el) => getComputedStyle(el).backgroundColor);
  const otherStyle = await page.locator('[data-testid="log-line"]:not([data-selected])').first().evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(selStyle, otherStyle, 'the selected line is highlighted (its own background)');
  return { lines };
}
