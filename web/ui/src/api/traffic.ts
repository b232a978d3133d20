import { request } from './client';

// SPEC §5 figures. Latency (ms) is absent where a breakdown keeps none.
export interface Latency {
  avg: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

export interface Figures {
  requests: number;
  successful: number;
  faults: number;
  throttled: number;
  errors4xx: number;
  errors5xx: number;
  latency?: Latency;
}

export interface Summary extends Figures {
  from: string;
  to: string;
}

export interface Point extends Figures {
  t: string;
}

export interface Series {
  key: string;
  labels: Record<string, string>;
  points: Point[];
}

export interface Timeseries {
  granularity: string;
  from: string;
  to: string;
  series: Series[];
}

export interface TopItem extends Figures {
  key: string;
  labels: Record<string, string>;
}

export interface Top {
  dimension: string;
  from: string;
  to: string;
  items: TopItem[];
}

// What a top list or grouped series is ranked by on the server (most first).
export type Rank = 'requests' | 'successful' | 'faults' | 'throttled' | 'errors4xx' | 'errors5xx';

export type View = 'business' | 'api' | 'application' | 'monitoring';

export type Dimension =
  | 'api' | 'apiVersion' | 'application' | 'resource' | 'destination' | 'user' | 'tenant'
  | 'errorType' | 'errorMessage' | 'country' | 'city' | 'browser' | 'os' | 'device';

// What every traffic call carries: the persona asking, the range and the global filters.
export interface Scope {
  view: View;
  from: string;
  to: string;
  tenant?: string;
  api?: string;
  apiVersion?: string;
  application?: string;
  country?: string; // ISO 3166-1 alpha-2; the Geo page's drill-down
}

function query(scope: Scope, extra: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...scope, ...extra })) {
    if (v !== undefined && v !== '') q.set(k, String(v));
  }
  return q.toString();
}

// The calls' paths (with their queries) also name their answers in the cache
// (api/cache.ts, api/queries.ts): two panels asking the same thing, such as
// the top bar's API filter and a table of APIs without filters, share one call.
export function summaryPath(scope: Scope): string {
  return `/api/v1/traffic/summary?${query(scope, {})}`;
}

export type SeriesQuery = { granularity: string; groupBy?: Dimension; limit?: number; rank?: Rank };
export function timeseriesPath(scope: Scope, opts: SeriesQuery): string {
  return `/api/v1/traffic/timeseries?${query(scope, opts)}`;
}

export type TopQuery = { dimension: Dimension; limit?: number; rank?: Rank };
export function topPath(scope: Scope, opts: TopQuery): string {
  return `/api/v1/traffic/top?${query(scope, opts)}`;
}

export function fetchSummary(scope: Scope, signal?: AbortSignal): Promise<Summary> {
  return request(summaryPath(scope), { signal });
}

// An empty answer may carry null for its list (Go's nil slice): read it as empty.
export async function fetchTimeseries(scope: Scope, opts: SeriesQuery, signal?: AbortSignal): Promise<Timeseries> {
  const ts = await request<Timeseries>(timeseriesPath(scope, opts), { signal });
  return { ...ts, series: (ts.series ?? []).map((s) => ({ ...s, labels: s.labels ?? {}, points: s.points ?? [] })) };
}

export async function fetchTop(scope: Scope, opts: TopQuery, signal?: AbortSignal): Promise<Top> {
  const top = await request<Top>(topPath(scope, opts), { signal });
  return { ...top, items: (top.items ?? []).map((i) => ({ ...i, labels: i.labels ?? {} })) };
}
