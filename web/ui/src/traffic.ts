import { createContext, useContext } from 'react';
import { useView } from './view';
import { useQuery, type QueryResult } from './query';
import { fetchSummary, fetchTimeseries, fetchTop, type Dimension, type Rank, type Scope, type Summary, type Timeseries, type Top, type View } from './api/traffic';
import { previousPeriod } from './lib/ranges';
import { encodeState } from './lib/urlstate';

// Hooks that turn the view (range, filters) and the persona into traffic calls.
// Every call carries view=<persona>; nothing is computed from raw events.
export const PersonaView = createContext<View>('business');

export interface ScopeExtra {
  api?: string;
  apiVersion?: string;
  application?: string;
  country?: string;
}

function useScope(extra: ScopeExtra = {}, previous = false): { scope: Scope; identity: string } {
  const v = useView();
  const view = useContext(PersonaView);
  const r = previous ? previousPeriod(v.resolved) : v.resolved;
  const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const scope: Scope = {
    view,
    from: iso(r.from),
    to: iso(r.to),
    tenant: v.state.tenant,
    api: extra.api ?? v.state.api,
    apiVersion: extra.apiVersion,
    application: extra.application ?? v.state.application,
    country: extra.country,
  };
  const identity = `${view}|${encodeState(v.state)}|${JSON.stringify(extra)}|${previous}`;
  return { scope, identity };
}

export function useSummary(extra?: ScopeExtra, previous = false): QueryResult<Summary> {
  const { scope, identity } = useScope(extra, previous);
  const key = `summary|${JSON.stringify(scope)}`;
  return useQuery(key, () => fetchSummary(scope), `summary|${identity}`);
}

export function useTimeseries(opts: { groupBy?: Dimension; limit?: number; granularity?: string; rank?: Rank }, extra?: ScopeExtra): QueryResult<Timeseries> {
  const { scope, identity } = useScope(extra);
  const v = useView();
  const g = opts.granularity ?? v.granularity;
  const o = { granularity: g, groupBy: opts.groupBy, limit: opts.limit, rank: opts.rank };
  const key = `ts|${JSON.stringify(scope)}|${JSON.stringify(o)}`;
  return useQuery(key, () => fetchTimeseries(scope, o), `ts|${identity}|${JSON.stringify(o)}`);
}

export function useTop(opts: { dimension: Dimension; limit?: number; rank?: Rank }, extra?: ScopeExtra, enabled = true): QueryResult<Top> {
  const { scope, identity } = useScope(extra);
  const key = enabled ? `top|${JSON.stringify(scope)}|${JSON.stringify(opts)}` : null;
  return useQuery(key, () => fetchTop(scope, opts), enabled ? `top|${identity}|${JSON.stringify(opts)}` : null);
}
