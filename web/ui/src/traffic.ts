import { createContext, useContext } from 'react';
import { useView } from './view';
import { useQuery, type QueryResult } from './query';
import type { Summary, Timeseries, Top, View } from './api/traffic';
import { makeScope, summaryQuery, timeseriesQuery, topQuery, type ScopeExtra, type SeriesOpts, type TopOpts } from './api/queries';
import { encodeState } from './lib/urlstate';

export type { ScopeExtra } from './api/queries';

// Hooks that turn the view (range, filters) and the persona into traffic calls.
// Every call carries view=<persona>; nothing is computed from raw events.
export const PersonaView = createContext<View>('business');

function useScope(extra: ScopeExtra = {}, previous = false) {
  const v = useView();
  const view = useContext(PersonaView);
  const scope = makeScope(view, v.state, v.resolved, extra, previous);
  const identity = `${view}|${encodeState(v.state)}|${JSON.stringify(extra)}|${previous}`;
  return { scope, identity, granularity: v.granularity };
}

export function useSummary(extra?: ScopeExtra, previous = false): QueryResult<Summary> {
  const { scope, identity } = useScope(extra, previous);
  const q = summaryQuery(scope);
  return useQuery(q.key, q.fetch, `summary|${identity}`);
}

export function useTimeseries(opts: SeriesOpts, extra?: ScopeExtra): QueryResult<Timeseries> {
  const { scope, identity, granularity } = useScope(extra);
  const q = timeseriesQuery(scope, opts, granularity);
  return useQuery(q.key, q.fetch, `ts|${identity}|${JSON.stringify(q.opts)}`);
}

export function useTop(opts: TopOpts, extra?: ScopeExtra, enabled = true): QueryResult<Top> {
  const { scope, identity } = useScope(extra);
  const q = topQuery(scope, opts);
  return useQuery(enabled ? q.key : null, q.fetch, enabled ? `top|${identity}|${JSON.stringify(opts)}` : null);
}
