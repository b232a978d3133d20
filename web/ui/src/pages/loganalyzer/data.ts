import { fetchContext, fetchCounts, fetchRecords, fetchTimeline, fetchTokenErrors, type LogContext, type LogCounts, type RecordPage, type RecordQuery, type Timeline, type TokenErrors } from '../../api/logs';
import { previousPeriod } from '../../lib/ranges';
import { useQuery, type QueryResult } from '../../query';
import { useView } from '../../view';

// Hooks turning the view's range into log analyzer calls. The identity is the
// range as chosen (a preset or custom instants), so a refresh of "Last 30
// Days" keeps the old answer up while the new one loads.

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function useRange(previous = false): { from: string; to: string; identity: string } {
  const v = useView();
  const r = previous ? previousPeriod(v.resolved) : v.resolved;
  return { from: iso(r.from), to: iso(r.to), identity: `${JSON.stringify(v.state.range)}|${previous}` };
}

// All categories at once: the pages pick theirs, and share one answer.
export function useCounts(previous = false): QueryResult<LogCounts> {
  const r = useRange(previous);
  return useQuery(`la-counts|${r.from}|${r.to}`, () => fetchCounts(r), `la-counts|${r.identity}`);
}

export function useTimeline(): QueryResult<Timeline> {
  const r = useRange();
  return useQuery(`la-timeline|${r.from}|${r.to}`, () => fetchTimeline(r), `la-timeline|${r.identity}`);
}

export function useTokenErrors(): QueryResult<TokenErrors> {
  const r = useRange();
  return useQuery(`la-token|${r.from}|${r.to}`, () => fetchTokenErrors(r, true), `la-token|${r.identity}`);
}

export function useRecords(q: Omit<RecordQuery, 'from' | 'to'> | null): QueryResult<RecordPage> {
  const r = useRange();
  const params = q ? { ...q, from: r.from, to: r.to } : null;
  const key = params ? `la-records|${JSON.stringify(params)}` : null;
  const identity = q ? `la-records|${r.identity}|${q.category}|${q.status}|${q.api ?? ''}|${q.order}|${q.limit}|${q.cursor}` : null;
  return useQuery(key, () => fetchRecords(params!), identity);
}

// The context of a record does not depend on the range, nor change on refresh.
export function useContext(id: string | undefined): QueryResult<LogContext> {
  const key = id ? `la-context|${id}` : null;
  return useQuery(key, () => fetchContext(id!, 100, 100), key);
}
