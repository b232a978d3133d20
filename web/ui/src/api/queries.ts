import { previousPeriod, type Resolved } from '../lib/ranges';
import { fetchSummary, fetchTimeseries, fetchTop, summaryPath, timeseriesPath, topPath, type Dimension, type Rank, type Scope, type Summary, type Timeseries, type Top, type View } from './traffic';
import type { ViewState } from '../lib/urlstate';

// The traffic calls as (cache key, fetch) pairs, built from plain values. The
// hooks of traffic.ts and the boot's prefetch (prefetch.ts) both build their
// calls here, so a prefetched answer has exactly the key the page asks for.
// The key is the call's path, so the same call made for two purposes (the top
// bar's API filter and the overview's table of APIs) goes out once.
export interface Query<T> {
  key: string;
  fetch: () => Promise<T>;
}

export interface ScopeExtra {
  api?: string;
  apiVersion?: string;
  application?: string;
  country?: string;
}

export type SeriesOpts = { groupBy?: Dimension; limit?: number; granularity?: string; rank?: Rank };
export type TopOpts = { dimension: Dimension; limit?: number; rank?: Rank };

export function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function makeScope(view: View, state: ViewState, resolved: Resolved, extra: ScopeExtra = {}, previous = false): Scope {
  const r = previous ? previousPeriod(resolved) : resolved;
  return {
    view,
    from: iso(r.from),
    to: iso(r.to),
    tenant: state.tenant,
    api: extra.api ?? state.api,
    apiVersion: extra.apiVersion,
    application: extra.application ?? state.application,
    country: extra.country,
  };
}

export function summaryQuery(scope: Scope): Query<Summary> {
  return { key: summaryPath(scope), fetch: () => fetchSummary(scope) };
}

// granularity: the view's (effective) granularity, unless opts name one.
export function timeseriesQuery(scope: Scope, opts: SeriesOpts, granularity: string): Query<Timeseries> & { opts: SeriesOpts & { granularity: string } } {
  const o = { granularity: opts.granularity ?? granularity, groupBy: opts.groupBy, limit: opts.limit, rank: opts.rank };
  return { key: timeseriesPath(scope, o), fetch: () => fetchTimeseries(scope, o), opts: o };
}

export function topQuery(scope: Scope, opts: TopOpts): Query<Top> {
  return { key: topPath(scope, opts), fetch: () => fetchTop(scope, opts) };
}

// The top bar's filter choices: a dimension's values with traffic in the range.
export type FilterDim = 'tenant' | 'api' | 'application';
export function filterQuery(view: View, from: string, to: string, dim: FilterDim): Query<Top> {
  const scope = { view, from, to };
  const opts = { dimension: dim, limit: 200 };
  return { key: topPath(scope, opts), fetch: () => fetchTop(scope, opts) };
}
