// Gateway logs for the log analyzer's tests: seeding a server with simulated
// wso2carbon.log lines, posting carbon lines of one's own, and reading an
// ECharts bar chart the way a person does (hovering its canvas).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const iso = (d) => d.toISOString().replace('.000Z', 'Z');

/**
 * Posts the gateways' log lines of `count` simulated calls spread over the
 * `days` days before the last whole hour (`apilens simulate --logs-only`: two
 * gateways, gw-1 and gw-2, each shipping its own log). Deterministic for a
 * seed and a window. Returns the window {from, to, fromISO, toISO} and the
 * number of lines the simulator says it sent.
 */
export async function seedLogs(server, { seed = 7, count = 4000, days = 7, sources = 'gw-1,gw-2' } = {}) {
  const hour = 3600e3;
  const to = new Date(Math.floor(Date.now() / hour) * hour);
  const from = new Date(to.getTime() - days * 24 * hour);
  const { stdout, stderr } = await run(
    server.bin,
    [
      'simulate',
      '--url', server.base,
      '--seed', String(seed),
      '--count', String(count),
      '--backfill-from', iso(from),
      '--backfill-to', iso(to),
      '--logs-only',
      '--log-sources', sources,
    ],
    {
      env: { ...process.env, APILENS_ADMIN_USER: server.admin.name, APILENS_ADMIN_PASSWORD: server.admin.password },
      timeout: 120000,
    },
  );
  const m = /sent (\d+) log lines/.exec(stdout + stderr);
  if (!m) throw new Error(`apilens simulate --logs-only did not say how many lines it sent:\n${(stdout + stderr).slice(-500)}`);
  return { from, to, fromISO: iso(from), toISO: iso(to), lines: Number(m[1]) };
}

/** A wso2carbon.log line (the 3.x/4.x "TID" layout), its time in UTC. */
export function carbonLine(at, level, logger, message, tenant = '-1234') {
  const p = (n, w = 2) => String(n).padStart(w, '0');
  const t = `${at.getUTCFullYear()}-${p(at.getUTCMonth() + 1)}-${p(at.getUTCDate())} ${p(at.getUTCHours())}:${p(at.getUTCMinutes())}:${p(at.getUTCSeconds())},${p(at.getUTCMilliseconds(), 3)}`;
  return `TID: [${tenant}] [] [${t}] ${level.padStart(5)} {${logger}} - ${message}`;
}

/** POSTs text lines as a carbon log of `source`; returns the 202's answer. */
export async function postCarbon(server, source, lines) {
  const res = await fetch(`${server.base}/api/v1/logs?format=carbon&source=${encodeURIComponent(source)}`, {
    method: 'POST',
    headers: { authorization: server.basic(), 'content-type': 'text/plain' },
    body: lines.join('\n') + '\n',
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /api/v1/logs?source=${source}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** A GET of the API as the admin (HTTP Basic), failing unless 200. */
export async function getJSON(server, path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return server.json(qs ? `${path}?${qs}` : path);
}

/** Every record of a records endpoint for a query, following the cursor. */
export async function allRecords(server, path, params, limit = 500) {
  const out = [];
  let cursor = '';
  for (let i = 0; i < 1000; i++) {
    const page = await getJSON(server, path, { ...params, limit, cursor });
    out.push(...(page.records || []));
    if (!page.next) return out;
    cursor = page.next;
  }
  throw new Error(`${path}: more than 1000 pages`);
}

// --- ECharts, read through the pointer --------------------------------------

/**
 * The tooltip of an ECharts chart in the panel `testid`, as shown now:
 * {name, values: [{series, value}]} or null when hidden. The tooltip is the
 * HTML one ECharts puts inside the chart's element (z-index 9999999); the
 * app's bar tooltips read "<category><br/>● <series>: <b>1,234</b>".
 */
export async function readTooltip(page, testid, { frame = false } = {}) {
  return page.evaluate(async ({ testid, frame }) => {
    // After a move of the pointer, a frame lets the browser apply ECharts's update.
    if (frame) await new Promise((r) => requestAnimationFrame(() => r()));
    const panel = document.querySelector(`[data-testid="${testid}"]`);
    if (!panel) return null;
    const tips = [...panel.querySelectorAll('div')].filter((d) => d.style.zIndex === '9999999');
    const tip = tips.find((d) => {
      const cs = getComputedStyle(d);
      return cs.display !== 'none' && cs.visibility !== 'hidden' && d.textContent.trim() !== '';
    });
    if (!tip) return null;
    const name = (tip.childNodes[0]?.textContent ?? '').trim();
    // Each series: its text up to the <b> (the marker is an empty span), then the figure.
    const values = [...tip.querySelectorAll('b')].map((b) => {
      let label = '';
      for (let n = b.previousSibling; n && n.nodeName !== 'BR'; n = n.previousSibling) label = (n.textContent ?? '') + label;
      return { series: label.replace(/:\s*$/, '').trim(), text: b.textContent.trim(), value: Number(b.textContent.replace(/[^0-9.-]/g, '')) };
    });
    return { name, values };
  }, { testid, frame });
}

/**
 * Finds the rows of a horizontal bar chart by moving the pointer down a
 * vertical line across its canvas (at `xFrac` of its width, inside the grid,
 * right of the category labels). With the axis-triggered tooltip every pixel
 * of a category's band names that category, so the bands come out as runs of
 * the same name; where a run starts is where its band starts (to a step).
 * The grid's bands are equally tall, so the bands' height is the distance
 * between two starts, and each band's middle follows (the end of the last
 * run is no guide: the tooltip stays a moment after the pointer leaves the
 * grid). Stops after the band named `until` when given. Returns
 * [{name, top, y, x}] from the top (page coordinates; y is the band's middle).
 */
export async function barRows(page, testid, { xFrac = 0.7, step = 8, until } = {}) {
  const chart = page.locator(`[data-testid="${testid}"] .chart`).first();
  await chart.waitFor();
  // In the middle of the window: at its top the sticky top bar would be
  // under the pointer, not the canvas.
  await chart.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  const box = await chart.boundingBox();
  if (!box) throw new Error(`${testid}: the chart has no box`);
  const x = box.x + box.width * xFrac;
  const covered = await chart.evaluate((el, [x, top, bottom]) => [top, bottom].filter((y) => !el.contains(document.elementFromPoint(x, y))), [x, box.y + 1, box.y + box.height - 1]);
  if (covered.length) throw new Error(`${testid}: something covers the chart at (${x}, ${covered.join(', ')}); the window is too small for it`);
  // Until the chart has settled (its first animation, a re-render after new
  // data) the pointer may show no tooltip: wait for one in the middle first.
  const deadline = Date.now() + 10000;
  for (let i = 0; ; i++) {
    await page.mouse.move(x, box.y + box.height / 2 + (i % 2));
    if (await readTooltip(page, testid, { frame: true })) break;
    if (Date.now() > deadline) throw new Error(`${testid}: no tooltip in the middle of the chart within 10 s`);
    await sleep(100);
  }
  await page.mouse.move(box.x + 1, box.y - 30);
  await sleep(150); // the tooltip's hide delay (100 ms)
  const rows = [];
  const samples = [];
  for (let y = box.y + 2; y < box.y + box.height - 2; y += step) {
    await page.mouse.move(x, y);
    // ECharts updates the tooltip on the pointer's move (no delay is set).
    const tip = await readTooltip(page, testid, { frame: true });
    samples.push(`${Math.round(y - box.y)}:${tip ? tip.name.slice(0, 12) : '-'}`);
    if (!tip || !tip.name) continue;
    const last = rows[rows.length - 1];
    if (last && last.name === tip.name) continue;
    if (last && until === last.name) {
      rows.push({ name: tip.name, top: y, x });
      break;
    }
    rows.push({ name: tip.name, top: y, x });
  }
  // Move away, so the tooltip goes.
  await page.mouse.move(box.x + 1, box.y - 30);
  // A start is seen up to a step after the band's; so is the next one.
  const h = rows.length > 1 ? (rows[rows.length - 1].top - rows[0].top) / (rows.length - 1) : step;
  for (const r of rows) r.y = r.top - step / 2 + h / 2;
  if (until && rows.length && rows[rows.length - 1].name !== until) rows.pop();
  rows.bandHeight = h;
  rows.samples = samples;
  return rows;
}

/**
 * Hovers the bar of the category `name` in the chart `testid` (found with
 * barRows; all of them with `all`) and returns the tooltip it shows there,
 * with the position and the rows found.
 */
export async function hoverBar(page, testid, name, { all = false, ...opts } = {}) {
  const rows = await barRows(page, testid, { ...opts, until: all ? undefined : name });
  const row = rows.find((r) => r.name === name);
  if (!row) throw new Error(`${testid}: no bar named "${name}" under the pointer; bars seen: ${rows.map((r) => r.name).join(' | ') || 'none'}; samples (y: name) ${rows.samples.join(' ')}`);
  await page.mouse.move(row.x, row.y);
  let tip = null;
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    tip = await readTooltip(page, testid);
    if (tip && tip.name === name && tip.values.length) break;
    await sleep(50);
  }
  if (!tip || tip.name !== name) throw new Error(`${testid}: hovering "${name}" at (${row.x}, ${row.y}) shows ${JSON.stringify(tip)}`);
  return { ...tip, x: row.x, y: row.y, rows };
}
