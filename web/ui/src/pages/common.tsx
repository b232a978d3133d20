import type { ReactNode } from 'react';
import type { Dimension, Point, Timeseries, Top, TopItem } from '../api/traffic';
import { latencyOf, type LineDef } from '../charts/build';
import type { Unit } from '../charts/ChartPanels';
import { DataTable, type Column } from '../components/DataTable';
import { Panel } from '../components/Panel';
import { NoTraffic } from '../components/states';
import { STATUS_COLORS, seriesColor } from '../lib/colors';
import { formatCount, formatLatency, formatPercent } from '../lib/format';
import type { QueryResult } from '../query';
import { useView } from '../view';

// Building blocks the persona pages share: units, series and column sets,
// click-to-filter, and the table panel behind the charts.

export const COUNT: Unit = { name: 'requests', format: formatCount, exact: (v) => v.toLocaleString('en-US') };
export const MS: Unit = { name: 'ms', format: formatLatency, exact: (v) => `${v.toLocaleString('en-US')} ms` };

export const label = (i: { key: string; labels: Record<string, string> }, dim: string): string => i.labels[dim] ?? i.key;

export function resourceLabel(i: { key: string; labels: Record<string, string> }): string {
  const l = i.labels;
  return l.resource ? `${l.method ?? ''} ${l.resource} (${l.api ?? ''})`.trim() : i.key;
}

export function latencyDetail(p: Point): string {
  const l = p.latency;
  return l ? `p50 ${l.p50} ms · p95 ${l.p95} ms · p99 ${l.p99} ms` : 'no latency';
}

// One line per series of a grouped timeseries, coloured by its key.
export function perSeries(get: (p: Point) => number | null, name: (s: Timeseries['series'][number]) => string = (s) => s.key, detail?: (p: Point) => string) {
  return (ts: Timeseries): LineDef[] =>
    ts.series.map((s) => ({ id: s.key, name: name(s), color: seriesColor(s.key), points: s.points, get, detail }));
}

// The status breakdown of the ungrouped series: stacked bars of successful /
// 4xx / 5xx, with throttled and faults as lines (they overlap the 4xx/5xx bars).
export function statusLines(ts: Timeseries): LineDef[] {
  const pts = ts.series[0]?.points ?? [];
  return [
    { id: 'successful', name: 'Successful (< 400)', color: STATUS_COLORS.success, points: pts, get: (p) => p.successful, stack: 's', type: 'bar' },
    { id: 'errors4xx', name: '4xx', color: STATUS_COLORS.client, points: pts, get: (p) => p.errors4xx, stack: 's', type: 'bar' },
    { id: 'errors5xx', name: '5xx', color: STATUS_COLORS.server, points: pts, get: (p) => p.errors5xx, stack: 's', type: 'bar' },
    { id: 'throttled', name: 'Throttled', color: STATUS_COLORS.throttled, points: pts, get: (p) => p.throttled },
    { id: 'faults', name: 'Faults', color: STATUS_COLORS.faults, points: pts, get: (p) => p.faults },
  ];
}

// p50, p95 and p99 together (never an average alone).
export function latencyLines(ts: Timeseries): LineDef[] {
  const pts = ts.series[0]?.points ?? [];
  return [
    { id: 'p50', name: 'p50', color: '#5fa2dd', points: pts, get: (p) => latencyOf(p)?.p50 ?? null },
    { id: 'p95', name: 'p95', color: '#f28e2b', points: pts, get: (p) => latencyOf(p)?.p95 ?? null },
    { id: 'p99', name: 'p99', color: '#e15759', points: pts, get: (p) => latencyOf(p)?.p99 ?? null },
  ];
}

export const hasLatency = (p: Point) => latencyOf(p)?.p95 ?? null;

// Clicking a bar or line of a dimension that is a global filter sets it.
export function useFilterClick(dim: 'api' | 'application' | 'tenant') {
  const { update } = useView();
  return (value: string) => update({ [dim]: value });
}

type F = TopItem;
export const FIG = {
  requests: { id: 'requests', header: 'Requests', value: (r: F) => r.requests, format: formatCount, numeric: true },
  successful: { id: 'successful', header: 'Successful', value: (r: F) => r.successful, format: formatCount, numeric: true },
  errors4xx: { id: 'errors4xx', header: '4xx', value: (r: F) => r.errors4xx, format: formatCount, numeric: true },
  errors5xx: { id: 'errors5xx', header: '5xx', value: (r: F) => r.errors5xx, format: formatCount, numeric: true },
  faults: { id: 'faults', header: 'Faults', value: (r: F) => r.faults, format: formatCount, numeric: true },
  throttled: { id: 'throttled', header: 'Throttled', value: (r: F) => r.throttled, format: formatCount, numeric: true },
  errorRate: {
    id: 'errorRate',
    header: 'Error rate',
    csvHeader: 'Error rate (ratio)',
    value: (r: F) => (r.requests ? (r.errors4xx + r.errors5xx) / r.requests : null),
    format: formatPercent,
    numeric: true,
  },
  p50: { id: 'p50', header: 'p50', csvHeader: 'p50 (ms)', value: (r: F) => r.latency?.p50 ?? null, format: formatLatency, numeric: true },
  p95: { id: 'p95', header: 'p95', csvHeader: 'p95 (ms)', value: (r: F) => r.latency?.p95 ?? null, format: formatLatency, numeric: true },
  p99: { id: 'p99', header: 'p99', csvHeader: 'p99 (ms)', value: (r: F) => r.latency?.p99 ?? null, format: formatLatency, numeric: true },
} satisfies Record<string, Column<F>>;

export const TRAFFIC_COLS: Column<F>[] = [FIG.requests, FIG.successful, FIG.errors4xx, FIG.errors5xx, FIG.faults, FIG.throttled, FIG.p50, FIG.p95, FIG.p99];
export const ERROR_COLS: Column<F>[] = [FIG.requests, FIG.faults, FIG.throttled, FIG.errors4xx, FIG.errors5xx, FIG.errorRate];

export function labelColumns(dim: Dimension): Column<F>[] {
  const c = (id: string, header: string): Column<F> => ({ id, header, value: (r) => r.labels[id] ?? '' });
  switch (dim) {
    case 'resource':
      return [c('api', 'API'), c('resource', 'Resource'), c('method', 'Method')];
    case 'apiVersion':
      return [c('api', 'API'), c('apiVersion', 'Version')];
    case 'application':
      return [c('application', 'Application'), c('applicationOwner', 'Owner')];
    case 'errorMessage':
      return [c('errorType', 'Error type'), c('errorMessage', 'Message / reason')];
    default: {
      const names: Partial<Record<Dimension, string>> = { api: 'API', destination: 'Destination', user: 'User', tenant: 'Tenant', errorType: 'Error type', country: 'Country', city: 'City', browser: 'Browser', os: 'Operating system', device: 'Device' };
      return [c(dim, names[dim] ?? dim)];
    }
  }
}

// The table behind a page's charts: one row per item of a top query.
export function TopTablePanel(props: {
  id: string;
  title: string;
  subtitle?: ReactNode;
  query: QueryResult<Top>;
  dimension: Dimension;
  columns?: Column<F>[];
  onRowClick?: (r: F) => void;
  sortBy?: string;
  empty?: ReactNode;
}) {
  const cols = [...labelColumns(props.dimension), ...(props.columns ?? TRAFFIC_COLS)];
  return (
    <Panel
      testid={`panel-${props.id}`}
      title={props.title}
      subtitle={props.subtitle}
      height={200}
      wide
      query={props.query}
      isEmpty={(t) => t.items.length === 0}
      empty={props.empty ?? <NoTraffic brief />}
    >
      {(t) => (
        <DataTable
          testid={`table-${props.id}`}
          name={props.id}
          columns={cols}
          rows={t.items}
          rowKey={(r) => r.key}
          initialSort={[{ id: props.sortBy ?? 'requests', desc: true }]}
          onRowClick={props.onRowClick}
          caption={props.title}
          dimension={props.dimension}
        />
      )}
    </Panel>
  );
}

export function Grid({ children }: { children: ReactNode }) {
  return <div className="grid">{children}</div>;
}
