import type { Timeseries, TopItem } from '../api/traffic';
import { BarChartPanel, TimeChartPanel } from '../charts/ChartPanels';
import { Kpis } from '../components/Kpis';
import { STATUS_COLORS, seriesColor } from '../lib/colors';
import { Page } from '../page';
import { useTimeseries, useTop } from '../traffic';
import { useView } from '../view';
import { COUNT, ERROR_COLS, FIG, Grid, MS, TopTablePanel, label, latencyLines, perSeries, resourceLabel, useFilterClick } from './common';

// Pages that Business and API Analytics share: usage, performance and faults.
// They differ only in the persona asking (view=…), which the chunk sets.

interface P {
  persona: string;
  page: string;
  title: string;
}

const requests = (p: { requests: number }) => p.requests;
const byApi = (s: Timeseries['series'][number]) => s.labels.api ?? s.key;
const apiLines = perSeries(requests, byApi);
const versionLines = perSeries(requests, (s) => `${s.labels.api} ${s.labels.apiVersion}`);

function faultLines(ts: Timeseries) {
  const pts = ts.series[0]?.points ?? [];
  return [
    { id: 'faults', name: 'Faults', color: STATUS_COLORS.faults, points: pts, get: (p: { faults: number }) => p.faults },
    { id: 'throttled', name: 'Throttled', color: STATUS_COLORS.throttled, points: pts, get: (p: { throttled: number }) => p.throttled },
    { id: 'errors5xx', name: '5xx', color: STATUS_COLORS.server, points: pts, get: (p: { errors5xx: number }) => p.errors5xx },
    { id: 'errors4xx', name: '4xx', color: STATUS_COLORS.client, points: pts, get: (p: { errors4xx: number }) => p.errors4xx },
  ];
}

export function ApiUsagePage({ persona, page, title }: P) {
  const setApi = useFilterClick('api');
  const ts = useTimeseries({ groupBy: 'api', limit: 10 });
  const versions = useTimeseries({ groupBy: 'apiVersion', limit: 10 });
  const top = useTop({ dimension: 'apiVersion', limit: 200 });
  return (
    <Page persona={persona} page={page} title={title}>
      <Kpis names={['requests', 'successful', 'faults', 'throttled', 'latency-p95']} />
      <Grid>
        <TimeChartPanel id="api-usage" title="Top 10 APIs: requests over time" subtitle="Click a line to filter by that API" query={ts} lines={apiLines} unit={COUNT} onLineClick={setApi} />
        <TimeChartPanel id="version-usage" title="Top 10 API versions: requests over time" query={versions} lines={versionLines} unit={COUNT} />
      </Grid>
      <TopTablePanel id="api-versions" title="Requests per API version" query={top} dimension="apiVersion" onRowClick={(r) => setApi(r.labels.api)} />
    </Page>
  );
}

export function PerformancePage({ persona, page, title }: P) {
  const setApi = useFilterClick('api');
  const all = useTimeseries({});
  const apis = useTop({ dimension: 'api', limit: 200 });
  const resources = useTop({ dimension: 'resource', limit: 200 });
  const latencyBars = [
    { id: 'p50', name: 'p50', color: '#5fa2dd', get: (i: TopItem) => i.latency?.p50 ?? null },
    { id: 'p95', name: 'p95', color: '#f28e2b', get: (i: TopItem) => i.latency?.p95 ?? null },
    { id: 'p99', name: 'p99', color: '#e15759', get: (i: TopItem) => i.latency?.p99 ?? null },
  ];
  return (
    <Page persona={persona} page={page} title={title}>
      <Kpis names={['requests', 'latency-p50', 'latency-p95', 'latency-p99']} />
      <Grid>
        <TimeChartPanel id="latency" title="Latency over time (p50, p95, p99)" query={all} lines={latencyLines} unit={MS} wide />
        <BarChartPanel id="latency-api" title="Latency per API (busiest 10)" subtitle="Click a bar to filter by that API" query={apis} label={(i) => label(i, 'api')} metrics={latencyBars} unit={MS} onItemClick={(i) => setApi(i.labels.api)} />
        <BarChartPanel id="latency-resource" title="Latency per resource (busiest 10)" query={resources} label={resourceLabel} metrics={latencyBars} unit={MS} onItemClick={(i) => setApi(i.labels.api)} />
      </Grid>
      <TopTablePanel id="latency-api" title="Latency per API" query={apis} dimension="api" onRowClick={(r) => setApi(r.labels.api)} columns={[FIG.requests, FIG.p50, FIG.p95, FIG.p99]} sortBy="p95" />
      <TopTablePanel id="latency-resource" title="Latency per resource and method" query={resources} dimension="resource" columns={[FIG.requests, FIG.p50, FIG.p95, FIG.p99]} sortBy="p95" />
    </Page>
  );
}

// Keeps the items with some of a figure, most first.
export function rankBy<T extends { items: TopItem[] }>(t: T, get: (i: TopItem) => number): T {
  return { ...t, items: [...t.items].filter((i) => get(i) > 0).sort((a, b) => get(b) - get(a)) };
}

export function FaultsPage({ persona, page, title }: P) {
  const setApi = useFilterClick('api');
  const { state } = useView();
  const all = useTimeseries({});
  const apis = useTop({ dimension: 'api', limit: 200 });
  const types = useTop({ dimension: 'errorType', limit: 50 });
  const messages = useTop({ dimension: 'errorMessage', limit: 200 });
  // The server ranks these by faults and by throttles; rankBy only drops the zeros.
  const faulty = useTop({ dimension: 'api', limit: 10, rank: 'faults' });
  const throttled = useTop({ dimension: 'api', limit: 10, rank: 'throttled' });
  const byFaults = faulty.data ? { ...faulty, data: rankBy(faulty.data, (i) => i.faults) } : faulty;
  const byThrottled = throttled.data ? { ...throttled, data: rankBy(throttled.data, (i) => i.throttled) } : throttled;
  return (
    <Page persona={persona} page={page} title={title}>
      <Kpis names={['requests', 'faults', 'throttled', 'errors4xx', 'errors5xx']} />
      <Grid>
        <TimeChartPanel id="faults-time" title={`Faults, throttles and errors over time${state.api ? ` — ${state.api}` : ''}`} query={all} lines={faultLines} unit={COUNT} wide />
        <BarChartPanel id="faulty-apis" title="Top 10 faulty APIs" subtitle="Click a bar to filter by that API" query={byFaults} label={(i) => label(i, 'api')} metrics={[{ id: 'faults', name: 'Faults', color: STATUS_COLORS.faults, get: (i) => i.faults }]} unit={COUNT} onItemClick={(i) => setApi(i.labels.api)} empty={<p className="muted">No faults in this range.</p>} />
        <BarChartPanel id="throttled-apis" title="Top 10 throttled APIs" subtitle="Click a bar to filter by that API" query={byThrottled} label={(i) => label(i, 'api')} metrics={[{ id: 'throttled', name: 'Throttled', color: STATUS_COLORS.throttled, get: (i) => i.throttled }]} unit={COUNT} onItemClick={(i) => setApi(i.labels.api)} empty={<p className="muted">No throttled requests in this range.</p>} />
        <BarChartPanel id="error-types" title="Faults by error type" query={types} label={(i) => label(i, 'errorType')} metrics={[{ id: 'requests', name: 'Events', color: (i) => (i.labels.errorType === 'THROTTLED' ? STATUS_COLORS.throttled : seriesColor(i.key)), get: (i) => i.requests }]} unit={COUNT} empty={<p className="muted">No faults in this range.</p>} />
      </Grid>
      <TopTablePanel id="faulty-apis" title="Faults and errors per API" query={apis} dimension="api" columns={ERROR_COLS} sortBy="faults" onRowClick={(r) => setApi(r.labels.api)} />
      <TopTablePanel id="error-messages" title="Faults by error message or throttle reason" query={messages} dimension="errorMessage" columns={[FIG.requests, FIG.faults, FIG.throttled, FIG.errors4xx, FIG.errors5xx]} empty={<p className="muted">No faults in this range.</p>} />
    </Page>
  );
}
