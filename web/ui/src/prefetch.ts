import type { Session } from './api/session';
import { MAX_AGE, shared } from './api/cache';
import { filterQuery, iso, makeScope, summaryQuery, timeseriesQuery, topQuery, type Query } from './api/queries';
import { effectiveGranularity } from './lib/granularity';
import { resolveRange } from './lib/ranges';
import { decodeState } from './lib/urlstate';
import { home, parsePath } from './personas';
import { OVERVIEW } from './pages/business/overviewQueries';

// The landing page's data is asked for as soon as the session answers, from the
// boot chunk: the requests run while React, the shell and the page's chunk load
// and start, and the page finds the answers in the cache (api/cache.ts) under
// the keys it builds itself (api/queries.ts). Only the Business overview, where
// an admin lands, is prefetched so far; other pages load their data as before.

// The instant the prefetch resolved its range at. The view resolves its first
// range at the same instant (view.tsx), so "Last 3 Months" gives the same from
// and to, hence the same keys; later it takes the clock again.
let pinned: { at: number; now: Date } | null = null;
export function bootNow(): Date | null {
  return pinned && Date.now() - pinned.at < MAX_AGE ? pinned.now : null;
}

// pathname and search as opened; "/" goes to the user's home page with the same
// query (App.tsx), a login page to nothing yet.
export function prefetch(session: Session, pathname: string, search: string): void {
  if (pathname.startsWith('/login')) return;
  const { persona, page } = parsePath(pathname === '/' ? home(session) : pathname);
  if (persona !== 'business' || page !== 'overview' || !session.personas.includes('business')) return;

  const now = new Date();
  pinned = { at: now.getTime(), now };
  const state = decodeState(search);
  const range = resolveRange(state.range, now);
  const gran = effectiveGranularity(state.gran, range);
  const scope = makeScope('business', state, range);
  // In this order: the browser sends six at a time (HTTP/1.1), so the page's
  // own calls go first, the longest to answer first, and the top bar's
  // filters last; the page is ready without them.
  const queries: Query<unknown>[] = [
    // The overview's charts and table.
    timeseriesQuery(scope, OVERVIEW.usage, gran),
    timeseriesQuery(scope, OVERVIEW.throttled, gran),
    topQuery(scope, OVERVIEW.apis),
    // The KPI tiles (components/Kpis.tsx): now, the period before, sparklines.
    summaryQuery(scope),
    summaryQuery(makeScope('business', state, range, {}, true)),
    timeseriesQuery(scope, {}, gran),
    timeseriesQuery(scope, OVERVIEW.daily, gran),
    // The top bar's filters (the API filter's call is the table's, above).
    filterQuery('business', iso(range.from), iso(range.to), 'api'),
    filterQuery('business', iso(range.from), iso(range.to), 'tenant'),
    filterQuery('business', iso(range.from), iso(range.to), 'application'),
  ];
  // A failed prefetch leaves no entry; the page asks again and shows the error.
  for (const q of queries) shared(q.key, q.fetch).catch(() => undefined);
}
