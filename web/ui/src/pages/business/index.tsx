import { lazy, Suspense } from 'react';
import type { Timeseries, TopItem } from '../../api/traffic';
import { BarChartPanel, TimeChartPanel } from '../../charts/ChartPanels';
import { Kpis } from '../../components/Kpis';
import { NotConfigured } from '../../components/states';
import { STATUS_COLORS, seriesColor } from '../../lib/colors';
import { Page } from '../../page';
import { PersonaView, useTimeseries, useTop } from '../../traffic';
import { useView } from '../../view';
import { COUNT, ERROR_COLS, FIG, Grid, MS, TopTablePanel, hasLatency, label, latencyDetail, perSeries, resourceLabel, useFilterClick } from '../common';
import { ApiUsagePage, FaultsPage, PerformancePage } from '../shared';
import { EnrichmentPending, allUnknown } from './enrichment';
import { OVERVIEW } from './overviewQueries';

// The map and its 100 kB of borders load only when the Geo Map page opens.
const GeoPage = lazy(() => import('./Geo'));

const P = 'business';
const byApi = (s: Timeseries['series'][number]) => s.labels.api ?? s.key;
const usageLines = perSeries((p) => p.requests, byApi);
const latencyPerApi = perSeries(hasLatency, byApi, latencyDetail);
const throttledPerApi = perSeries((p) => p.throttled, byApi);
const faultsPerApp = perSeries((p) => p.faults, (s) => s.labels.application ?? s.key);
const throttledPerApp = perSeries((p) => p.throttled, (s) => s.labels.application ?? s.key);

// The server ranks these series by throttled requests (rank=throttled); APIs
// never throttled in the range are left out.
function topThrottled(ts: Timeseries) {
  const total = (s: Timeseries['series'][number]) => s.points.reduce((a, p) => a + p.throttled, 0);
  return throttledPerApi({ ...ts, series: ts.series.filter((s) => total(s) > 0) });
}
const nonZero = (get: (p: Timeseries['series'][number]['points'][number]) => number, lines: (ts: Timeseries) => ReturnType<typeof throttledPerApi>) => (ts: Timeseries) =>
  lines({ ...ts, series: ts.series.filter((s) => s.points.some((p) => get(p) > 0)) });

function Overview() {
  const setApi = useFilterClick('api');
  // The boot chunk may already have asked for these (prefetch.ts).
  const usage = useTimeseries(OVERVIEW.usage);
  const throttled = useTimeseries(OVERVIEW.throttled);
  const daily = useTimeseries(OVERVIEW.daily);
  const apis = useTop(OVERVIEW.apis);
  const dailyLines = (ts: Timeseries) => {
    const pts = ts.series[0]?.points ?? [];
    return [
      { id: 'faults', name: 'Faults', color: STATUS_COLORS.faults, points: pts, get: (p: { faults: number }) => p.faults, type: 'bar' as const, stack: 'f' },
      { id: 'throttled', name: 'Throttled', color: STATUS_COLORS.throttled, points: pts, get: (p: { throttled: number }) => p.throttled, type: 'bar' as const, stack: 'f' },
    ];
  };
  return (
    <Page persona={P} page="overview" title="Business overview">
      <Kpis names={['requests', 'successful', 'faults', 'throttled', 'errors4xx', 'errors5xx', 'latency-p50', 'latency-p95', 'latency-p99']} />
      <Grid>
        <TimeChartPanel id="api-usage" title="Top 10 APIs: requests over time" subtitle="Click a line to filter by that API" query={usage} lines={usageLines} unit={COUNT} onLineClick={setApi} />
        <TimeChartPanel id="api-latency" title="Top 10 APIs: latency p95 over time" subtitle="Tooltip shows p50, p95 and p99 together" query={usage} lines={latencyPerApi} unit={MS} onLineClick={setApi} />
        <TimeChartPanel id="api-throttled" title="Top 10 throttled APIs over time" subtitle="Click a line to filter by that API" query={throttled} lines={topThrottled} unit={COUNT} onLineClick={setApi} empty={<p className="muted">No throttled requests in this range.</p>} />
        <TimeChartPanel id="daily-faults" title="Faults per day" query={daily} lines={dailyLines} unit={COUNT} empty={<p className="muted">No faults in this range.</p>} />
      </Grid>
      <TopTablePanel id="apis" title="APIs" query={apis} dimension="api" onRowClick={(r) => setApi(r.labels.api)} />
    </Page>
  );
}

function UsageSummary() {
  const setApi = useFilterClick('api');
  const setApp = useFilterClick('application');
  const { state } = useView();
  const apis = useTop({ dimension: 'api', limit: 200 });
  const apps = useTop({ dimension: 'application', limit: 200 });
  const dests = useTop({ dimension: 'destination', limit: 200 });
  const resources = useTop({ dimension: 'resource', limit: 200 });
  const users = useTop({ dimension: 'user', limit: 200 });
  // Bars take their item's series colour, the same as its line on other pages.
  const req = [{ id: 'requests', name: 'Requests', color: (i: TopItem) => seriesColor(i.key), get: (i: TopItem) => i.requests }];
  return (
    <Page persona={P} page="usage-summary" title="Usage summary">
      <Kpis names={['requests', 'successful', 'faults', 'throttled']} />
      <Grid>
        <BarChartPanel id="usage-api" title="Top 10 APIs by requests" subtitle="Subscriptions per API come from the API Manager's database, which apilens is not connected to. Click a bar to filter." query={apis} label={(i) => label(i, 'api')} metrics={req} unit={COUNT} onItemClick={(i) => setApi(i.labels.api)} />
        <BarChartPanel id="usage-application" title={state.api ? `Top 10 applications calling ${state.api}` : 'Top 10 applications (all APIs)'} subtitle={state.api ? 'API × application' : 'Choose an API (filter or click) to see the applications calling it'} query={apps} label={(i) => label(i, 'application')} metrics={req} unit={COUNT} onItemClick={(i) => setApp(i.labels.application)} />
        <BarChartPanel id="usage-destination" title="Top 10 backend destinations" query={dests} label={(i) => label(i, 'destination')} metrics={req} unit={COUNT} />
        <BarChartPanel id="usage-resource" title="Top 10 resources and methods" query={resources} label={resourceLabel} metrics={req} unit={COUNT} onItemClick={(i) => setApi(i.labels.api)} />
        <BarChartPanel id="usage-user" title="Top 10 users" query={users} label={(i) => label(i, 'user')} metrics={req} unit={COUNT} />
      </Grid>
      <TopTablePanel id="usage-api" title="Requests per API" query={apis} dimension="api" onRowClick={(r) => setApi(r.labels.api)} />
      <TopTablePanel id="usage-application" title={state.api ? `Applications calling ${state.api}` : 'Requests per application'} query={apps} dimension="application" onRowClick={(r) => setApp(r.labels.application)} />
      <TopTablePanel id="usage-resource" title="Requests per resource and method" query={resources} dimension="resource" />
      <TopTablePanel id="usage-destination" title="Requests per backend destination" query={dests} dimension="destination" />
      <TopTablePanel id="usage-user" title="Top users" query={users} dimension="user" columns={[FIG.requests, FIG.successful, FIG.errors4xx, FIG.errors5xx, FIG.faults, FIG.throttled]} />
    </Page>
  );
}

function Throttle() {
  const setApi = useFilterClick('api');
  const all = useTimeseries({});
  const apis = useTop({ dimension: 'api', limit: 200, rank: 'throttled' });
  const apps = useTop({ dimension: 'application', limit: 200, rank: 'throttled' });
  const reasons = useTop({ dimension: 'errorMessage', limit: 200, rank: 'throttled' });
  const throttledOnly = (t: { items: TopItem[] }) => ({ ...t, items: t.items.filter((i) => i.throttled > 0).sort((a, b) => b.throttled - a.throttled) });
  const q = <T extends { items: TopItem[] }>(r: { data?: T }) => (r.data ? { ...r, data: throttledOnly(r.data) as T } : r);
  const throttledLine = (ts: Timeseries) => [{ id: 'throttled', name: 'Throttled', color: STATUS_COLORS.throttled, points: ts.series[0]?.points ?? [], get: (p: { throttled: number }) => p.throttled }];
  const metric = [{ id: 'throttled', name: 'Throttled', color: STATUS_COLORS.throttled, get: (i: TopItem) => i.throttled }];
  const none = <p className="muted">No throttled requests in this range.</p>;
  return (
    <Page persona={P} page="throttle" title="Throttle summary">
      <Kpis names={['requests', 'throttled', 'successful']} />
      <Grid>
        <TimeChartPanel id="throttled-time" title="Throttled requests over time" query={all} lines={throttledLine} unit={COUNT} empty={none} />
        <BarChartPanel id="throttled-api" title="Top 10 throttled APIs" subtitle="Click a bar to filter by that API" query={q(apis) as typeof apis} label={(i) => label(i, 'api')} metrics={metric} unit={COUNT} onItemClick={(i) => setApi(i.labels.api)} empty={none} />
        <BarChartPanel id="throttled-application" title="Top 10 throttled applications" query={q(apps) as typeof apps} label={(i) => label(i, 'application')} metrics={metric} unit={COUNT} empty={none} />
        <BarChartPanel id="throttle-reasons" title="Throttle reasons" query={q(reasons) as typeof reasons} label={(i) => label(i, 'errorMessage')} metrics={metric} unit={COUNT} empty={none} />
      </Grid>
      <TopTablePanel id="throttled-api" title="Throttled requests per API" query={apis} dimension="api" columns={[FIG.requests, FIG.throttled, FIG.successful]} sortBy="throttled" onRowClick={(r) => setApi(r.labels.api)} />
    </Page>
  );
}

function ApiErrors() {
  const setApp = useFilterClick('application');
  const faults = useTimeseries({ groupBy: 'application', limit: 10, rank: 'faults' });
  const throttled = useTimeseries({ groupBy: 'application', limit: 10, rank: 'throttled' });
  const apps = useTop({ dimension: 'application', limit: 200 });
  const reasons = useTop({ dimension: 'errorMessage', limit: 200 });
  return (
    <Page persona={P} page="api-errors" title="API errors per application">
      <Kpis names={['requests', 'faults', 'throttled', 'errors4xx', 'errors5xx']} />
      <Grid>
        <TimeChartPanel id="app-faults" title="Top 10 applications by faults over time" subtitle="Click a line to filter by that application" query={faults} lines={nonZero((p) => p.faults, faultsPerApp)} unit={COUNT} onLineClick={setApp} empty={<p className="muted">No faults in this range.</p>} />
        <TimeChartPanel id="app-throttled" title="Top 10 throttled applications over time" query={throttled} lines={nonZero((p) => p.throttled, throttledPerApp)} unit={COUNT} onLineClick={setApp} empty={<p className="muted">No throttled requests in this range.</p>} />
      </Grid>
      <TopTablePanel id="app-errors" title="Faults and throttles per application" query={apps} dimension="application" columns={ERROR_COLS} sortBy="faults" onRowClick={(r) => setApp(r.labels.application)} />
      <TopTablePanel id="error-reasons" title="Reasons: error messages and throttle reasons" query={reasons} dimension="errorMessage" columns={[FIG.requests, FIG.faults, FIG.throttled]} empty={<p className="muted">No faults in this range.</p>} />
    </Page>
  );
}

function Devices() {
  const os = useTop({ dimension: 'os', limit: 50 });
  const browsers = useTop({ dimension: 'browser', limit: 50 });
  const metric = [{ id: 'requests', name: 'Requests', color: STATUS_COLORS.redirect, get: (i: TopItem) => i.requests }];
  return (
    <Page persona={P} page="devices" title="Devices">
      <Grid>
        <BarChartPanel id="os" title="Top platforms (operating systems)" query={os} label={(i) => label(i, 'os')} metrics={metric} unit={COUNT} isEmpty={allUnknown('os')} empty={<EnrichmentPending what="operating systems" />} />
        <BarChartPanel id="browser" title="Top browsers" query={browsers} label={(i) => label(i, 'browser')} metrics={metric} unit={COUNT} isEmpty={allUnknown('browser')} empty={<EnrichmentPending what="browsers" />} />
      </Grid>
    </Page>
  );
}

function Apim() {
  const figures = ['APIs created', 'API ratings', 'Top API creators', 'Subscriptions', 'Applications created', 'Developer sign-ups', 'Top application creators', 'Top subscribers'];
  return (
    <Page persona={P} page="apim" title="APIs and developers" fixed="ready">
      <NotConfigured what="API and developer statistics" />
      <ul className="not-configured-list">
        {figures.map((f) => (
          <li key={f}>{f}</li>
        ))}
      </ul>
    </Page>
  );
}

export default function BusinessPages({ page }: { page: string }) {
  return <PersonaView.Provider value="business">{pick(page)}</PersonaView.Provider>;
}

function pick(page: string) {
  switch (page) {
    case 'overview':
      return <Overview />;
    case 'usage-summary':
      return <UsageSummary />;
    case 'api-usage':
      return <ApiUsagePage persona={P} page="api-usage" title="API usage over time" />;
    case 'performance':
      return <PerformancePage persona={P} page="performance" title="Performance" />;
    case 'throttle':
      return <Throttle />;
    case 'errors':
      return <FaultsPage persona={P} page="errors" title="Error summary" />;
    case 'api-errors':
      return <ApiErrors />;
    case 'devices':
      return <Devices />;
    case 'geo':
      return (
        <Suspense fallback={null}>
          <GeoPage />
        </Suspense>
      );
    case 'apim':
      return <Apim />;
    default:
      return null;
  }
}
