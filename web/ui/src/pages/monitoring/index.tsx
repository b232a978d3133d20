import { useState } from 'react';
import type { Dimension, Timeseries, Top, TopItem } from '../../api/traffic';
import { BarChartPanel, TimeChartPanel, type Unit } from '../../charts/ChartPanels';
import { Kpis } from '../../components/Kpis';
import { Panel } from '../../components/Panel';
import { STATUS_COLORS, seriesColor } from '../../lib/colors';
import { formatLatency, formatPercent } from '../../lib/format';
import { Page } from '../../page';
import { PersonaView, useTimeseries, useTop, type ScopeExtra } from '../../traffic';
import { COUNT, ERROR_COLS, FIG, Grid, MS, TopTablePanel, label, latencyLines, perSeries, resourceLabel, statusLines, useFilterClick } from '../common';

// Monitoring (DevOps): totals, errors with drill-down, latency and traffic (view=monitoring).
const P = 'monitoring';
const byApi = (s: Timeseries['series'][number]) => s.labels.api ?? s.key;
const requestsPerApi = perSeries((p) => p.requests, byApi);

// The API with the highest p99 among the answers, as its own tile.
function HighestLatency({ top }: { top: ReturnType<typeof useTop> }) {
  return (
    <Panel testid="panel-highest-latency" title="Highest p99 latency" height={64} query={top} isEmpty={(t) => !t.items.some((i) => i.latency)} empty={<p className="muted">No latency measured in this range.</p>}>
      {(t) => {
        const worst = t.items.filter((i) => i.latency).sort((a, b) => b.latency!.p99 - a.latency!.p99)[0];
        return (
          <div className="kpi kpi-inline" data-testid="kpi-latency-p99-max" data-value={worst.latency!.p99} data-key={worst.key}>
            <div className="kpi-value">{formatLatency(worst.latency!.p99)}</div>
            <div className="kpi-unit">
              p99 of <strong>{label(worst, 'api')}</strong> (p50 {formatLatency(worst.latency!.p50)}, p95 {formatLatency(worst.latency!.p95)})
            </div>
          </div>
        );
      }}
    </Panel>
  );
}

const STATUS_COLS = [
  { ...FIG.successful, header: '2xx/3xx (< 400)' },
  FIG.errors4xx,
  FIG.errors5xx,
  FIG.faults,
  FIG.throttled,
  FIG.requests,
];

function Overview() {
  const setApi = useFilterClick('api');
  const apis = useTop({ dimension: 'api', limit: 200 });
  return (
    <Page persona={P} page="overview" title="Monitoring overview">
      <Kpis names={['requests', 'faults', 'throttled', 'errors4xx', 'errors5xx', 'latency-p99']} />
      <HighestLatency top={apis} />
      <TopTablePanel id="api-status" title="Status per API" query={apis} dimension="api" columns={STATUS_COLS} onRowClick={(r) => setApi(r.labels.api)} />
    </Page>
  );
}

type Mode = 'count' | 'percent';
const DIM_NAMES: Partial<Record<Dimension, string>> = { api: 'API', apiVersion: 'version', resource: 'resource', application: 'application' };
const errors = (f: { errors4xx: number; errors5xx: number }) => f.errors4xx + f.errors5xx;
const PERCENT: Unit = { name: '% of requests', format: formatPercent, exact: (v) => `${(v * 100).toFixed(4).replace(/\.?0+$/, '')} %` };

function Errors() {
  const [by, setBy] = useState<'api' | 'application'>('api');
  const [path, setPath] = useState<{ api?: string; apiVersion?: string }>({});
  const [mode, setMode] = useState<Mode>('count');

  // API → version → resource; applications have no deeper level.
  let dim: Dimension = 'application';
  let extra: ScopeExtra = {};
  if (by === 'api') {
    if (path.apiVersion) [dim, extra] = ['resource', { api: path.api, apiVersion: path.apiVersion }];
    else if (path.api) [dim, extra] = ['apiVersion', { api: path.api }];
    else dim = 'api';
  }
  const top = useTop({ dimension: dim, limit: 200 }, extra);
  const ts = useTimeseries({ groupBy: dim, limit: 10 }, extra);

  const value = (f: TopItem | Timeseries['series'][number]['points'][number]) => (mode === 'count' ? errors(f) : f.requests ? errors(f) / f.requests : null);
  const itemLabel = (i: TopItem) => (dim === 'resource' ? resourceLabel(i) : dim === 'apiVersion' ? i.labels.apiVersion : label(i, dim));
  const ranked: typeof top = top.data ? { ...top, data: { ...top.data, items: [...top.data.items].sort((a, b) => (value(b) ?? 0) - (value(a) ?? 0)) } } : top;
  const drill = (i: TopItem) => {
    if (by !== 'api' || dim === 'resource') return;
    setPath(dim === 'api' ? { api: i.labels.api } : { api: path.api, apiVersion: i.labels.apiVersion });
  };
  const unit = mode === 'count' ? COUNT : PERCENT;
  const lines = (t: Timeseries) =>
    t.series.map((s) => ({ id: s.key, name: dim === 'resource' ? `${s.labels.method} ${s.labels.resource}` : dim === 'apiVersion' ? s.labels.apiVersion : s.labels[dim] ?? s.key, color: seriesColor(s.key), points: s.points, get: value }));

  return (
    <Page persona={P} page="errors" title="Errors">
      <Kpis names={['requests', 'errors4xx', 'errors5xx', 'faults', 'throttled']} />
      <div className="toolbar" role="group" aria-label="Error breakdown">
        <Segmented label="By" value={by} options={[['api', 'API'], ['application', 'Application']]} onChange={(v) => { setBy(v); setPath({}); }} />
        <Segmented label="Show" value={mode} options={[['count', 'Count'], ['percent', 'Percent of requests']]} onChange={setMode} />
        {by === 'api' && (
          <nav className="crumbs" aria-label="Drill-down" data-testid="drill-path">
            <button type="button" className="linkish" onClick={() => setPath({})} disabled={!path.api}>All APIs</button>
            {path.api && (
              <>
                {' › '}
                <button type="button" className="linkish" onClick={() => setPath({ api: path.api })} disabled={!path.apiVersion}>{path.api}</button>
              </>
            )}
            {path.apiVersion && <> › {path.apiVersion}</>}
          </nav>
        )}
      </div>
      <Grid>
        <BarChartPanel
          id="errors-breakdown"
          title={`Errors (4xx + 5xx) per ${DIM_NAMES[dim]}`}
          subtitle={by === 'api' && dim !== 'resource' ? 'Click a bar to drill down' : undefined}
          query={ranked}
          label={itemLabel}
          metrics={[{ id: 'errors', name: mode === 'count' ? 'Errors' : 'Error rate', color: STATUS_COLORS.server, get: value }]}
          unit={unit}
          onItemClick={by === 'api' && dim !== 'resource' ? drill : undefined}
          isEmpty={(t: Top) => t.items.length === 0}
        />
        <TimeChartPanel id="errors-time" title={`Errors over time per ${DIM_NAMES[dim]} (busiest 10)`} query={ts} lines={lines} unit={unit} />
      </Grid>
      <TopTablePanel id="errors" title={`Errors per ${DIM_NAMES[dim]}`} query={top} dimension={dim} columns={ERROR_COLS} sortBy="errorRate" onRowClick={by === 'api' && dim !== 'resource' ? drill : undefined} />
    </Page>
  );
}

function Segmented<T extends string>(props: { label: string; value: T; options: [T, string][]; onChange: (v: T) => void }) {
  return (
    <span className="segmented" role="radiogroup" aria-label={props.label}>
      <span className="muted">{props.label}</span>
      {props.options.map(([v, text]) => (
        <button key={v} type="button" role="radio" aria-checked={props.value === v} className={props.value === v ? 'on' : ''} onClick={() => props.onChange(v)}>
          {text}
        </button>
      ))}
    </span>
  );
}

function Latency() {
  const setApi = useFilterClick('api');
  const all = useTimeseries({});
  const apis = useTop({ dimension: 'api', limit: 200 });
  const bars = [
    { id: 'p50', name: 'p50', color: '#5fa2dd', get: (i: TopItem) => i.latency?.p50 ?? null },
    { id: 'p95', name: 'p95', color: '#f28e2b', get: (i: TopItem) => i.latency?.p95 ?? null },
    { id: 'p99', name: 'p99', color: '#e15759', get: (i: TopItem) => i.latency?.p99 ?? null },
  ];
  const slowest: typeof apis = apis.data ? { ...apis, data: { ...apis.data, items: apis.data.items.filter((i) => i.latency).sort((a, b) => b.latency!.p99 - a.latency!.p99) } } : apis;
  return (
    <Page persona={P} page="latency" title="Latency">
      <Kpis names={['requests', 'latency-p50', 'latency-p95', 'latency-p99']} />
      <Grid>
        <TimeChartPanel id="latency-time" title="Latency over time (p50, p95, p99)" query={all} lines={latencyLines} unit={MS} />
        <BarChartPanel id="latency-slowest" title="Slowest 10 APIs by p99" subtitle="Click a bar to filter by that API" query={slowest} label={(i) => label(i, 'api')} metrics={bars} unit={MS} onItemClick={(i) => setApi(i.labels.api)} />
      </Grid>
      <TopTablePanel id="latency-api" title="Latency per API" query={apis} dimension="api" columns={[FIG.requests, FIG.p50, FIG.p95, FIG.p99]} sortBy="p99" onRowClick={(r) => setApi(r.labels.api)} />
    </Page>
  );
}

function Traffic() {
  const setApi = useFilterClick('api');
  const all = useTimeseries({});
  const perApi = useTimeseries({ groupBy: 'api', limit: 10 });
  const apis = useTop({ dimension: 'api', limit: 200 });
  return (
    <Page persona={P} page="traffic" title="Traffic">
      <Kpis names={['requests', 'successful', 'errors4xx', 'errors5xx', 'faults', 'throttled']} />
      <Grid>
        <TimeChartPanel id="traffic-status" title="Requests over time by outcome" query={all} lines={statusLines} unit={COUNT} />
        <TimeChartPanel id="traffic-api" title="Requests over time per API (busiest 10)" subtitle="Click a line to filter by that API" query={perApi} lines={requestsPerApi} unit={COUNT} onLineClick={setApi} />
      </Grid>
      <TopTablePanel id="traffic-api" title="Traffic per API" query={apis} dimension="api" onRowClick={(r) => setApi(r.labels.api)} />
    </Page>
  );
}

export default function MonitoringPages({ page }: { page: string }) {
  return (
    <PersonaView.Provider value="monitoring">
      {page === 'overview' && <Overview />}
      {page === 'errors' && <Errors />}
      {page === 'latency' && <Latency />}
      {page === 'traffic' && <Traffic />}
    </PersonaView.Provider>
  );
}
