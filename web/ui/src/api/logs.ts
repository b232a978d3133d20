import { request } from './client';

// The log analyzer's endpoints (docs/api.md, "Log analyzer"). Admin only.

export type LogCategory = 'access_token' | 'login' | 'app_error' | 'api_deployed' | 'api_deleted' | 'api_failure' | 'audit' | '';

export interface LogRecord {
  id: number;
  timestamp: string;
  source: string;
  seq: number;
  level: string;
  logger: string;
  category: LogCategory;
  status: string;
  code: string;
  api: string;
  content: string;
  parsed: boolean;
}

export interface StatusCount {
  status: string;
  code: string;
  count: number;
}

export interface TokenErrors {
  from: string;
  to: string;
  statuses: StatusCount[];
  previous?: { from: string; to: string; statuses: StatusCount[] };
}

export interface RecordPage {
  records: LogRecord[];
  next: string;
}

export interface LogCount {
  category: LogCategory;
  status: string;
  code: string;
  api: string;
  // false: raw lines no layout matched (kept as records, never classified).
  parsed: boolean;
  count: number;
}

export interface LogCounts {
  from: string;
  to: string;
  counts: LogCount[];
}

export interface TimelinePoint {
  t: string;
  category: LogCategory;
  count: number;
}

export interface Timeline {
  step: string;
  points: TimelinePoint[];
}

export interface LogContext {
  record: LogRecord;
  before: LogRecord[];
  after: LogRecord[];
}

function qs(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  return q.toString();
}

export interface Range {
  from: string;
  to: string;
}

export async function fetchTokenErrors(r: Range, compare: boolean): Promise<TokenErrors> {
  const t = await request<TokenErrors>(`/api/v1/loganalyzer/token-errors?${qs({ ...r, compare: compare ? 'previous' : undefined })}`);
  return { ...t, statuses: t.statuses ?? [], previous: t.previous ? { ...t.previous, statuses: t.previous.statuses ?? [] } : undefined };
}

export interface RecordQuery extends Range {
  category?: string;
  status?: string;
  source?: string;
  api?: string;
  order: 'asc' | 'desc';
  limit: number;
  cursor: string;
}

// Access-token records go through their contract endpoint; the others through
// the general one.
export async function fetchRecords(q: RecordQuery): Promise<RecordPage> {
  const { category, ...rest } = q;
  const path = category === 'access_token' ? `/api/v1/loganalyzer/token-errors/records?${qs(rest)}` : `/api/v1/loganalyzer/records?${qs({ category, ...rest })}`;
  const p = await request<RecordPage>(path);
  return { records: p.records ?? [], next: p.next ?? '' };
}

export async function fetchCounts(r: Range, category?: string): Promise<LogCounts> {
  const c = await request<LogCounts>(`/api/v1/loganalyzer/counts?${qs({ ...r, category })}`);
  // An older server sends no parsed flag: its rows are all parsed records.
  return { ...c, counts: (c.counts ?? []).map((x) => ({ ...x, parsed: x.parsed !== false })) };
}

export async function fetchTimeline(r: Range, category?: string): Promise<Timeline> {
  const t = await request<Timeline>(`/api/v1/loganalyzer/timeline?${qs({ ...r, category })}`);
  return { ...t, points: t.points ?? [] };
}

export async function fetchContext(id: string, before = 100, after = 100): Promise<LogContext> {
  const c = await request<LogContext>(`/api/v1/logs/${encodeURIComponent(id)}/context?${qs({ before, after })}`);
  return { ...c, before: c.before ?? [], after: c.after ?? [] };
}

export const TAIL_URL = '/api/v1/logs/tail';
