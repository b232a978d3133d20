import { DEFAULT_RANGE, findPreset, type RangeSpec } from './ranges';
import { GRANULARITIES, type Granularity } from './granularity';

// Everything that shapes a view lives in the URL query, so a copied link
// reproduces the view: range, granularity, zone, refresh and the global filters.
export type Zone = 'local' | 'utc';

export interface ViewState {
  range: RangeSpec;
  gran: 'auto' | Granularity;
  tz: Zone;
  refresh: number | 'off'; // seconds
  tenant: string;
  api: string;
  application: string;
  // Page-local choices, present only where a page set them: the selected
  // status or category, the record open in the log viewer, the table's order
  // the comparison with the previous period, and the API (as the gateway's
  // log names it, e.g. admin--PizzaShackAPI:v1.0.0) a log page's records are
  // narrowed to. Navigation drops them.
  status?: string;
  category?: string;
  logapi?: string;
  record?: string;
  order?: 'asc' | 'desc';
  compare?: 'previous';
}

export const PAGE_KEYS = ['status', 'category', 'record', 'order', 'compare', 'logapi'] as const;

export const DEFAULT_REFRESH = 30;
export const REFRESH_CHOICES: (number | 'off')[] = [10, 30, 60, 300, 'off'];

export const DEFAULT_STATE: ViewState = {
  range: { preset: DEFAULT_RANGE },
  gran: 'auto',
  tz: 'local',
  refresh: DEFAULT_REFRESH,
  tenant: '',
  api: '',
  application: '',
};

export function decodeState(search: string): ViewState {
  const q = new URLSearchParams(search);
  const from = q.get('from');
  const to = q.get('to');
  let range: RangeSpec;
  const preset = q.get('range');
  if (preset && findPreset(preset)) range = { preset };
  else if (from && to && !isNaN(Date.parse(from)) && !isNaN(Date.parse(to))) range = { from, to };
  else range = { preset: DEFAULT_RANGE };

  const g = q.get('gran');
  const gran = g && (GRANULARITIES as string[]).includes(g) ? (g as Granularity) : 'auto';
  const tz: Zone = q.get('tz') === 'utc' ? 'utc' : 'local';
  const r = q.get('refresh');
  let refresh: number | 'off' = DEFAULT_REFRESH;
  if (r === 'off') refresh = 'off';
  else if (r && /^\d+$/.test(r) && Number(r) >= 5) refresh = Number(r);

  const s: ViewState = {
    range,
    gran,
    tz,
    refresh,
    tenant: q.get('tenant') ?? '',
    api: q.get('api') ?? '',
    application: q.get('application') ?? '',
  };
  const status = q.get('status');
  if (status) s.status = status;
  const category = q.get('category');
  if (category) s.category = category;
  const record = q.get('record');
  if (record && /^\d+$/.test(record)) s.record = record;
  const order = q.get('order');
  if (order === 'asc' || order === 'desc') s.order = order;
  if (q.get('compare') === 'previous') s.compare = 'previous';
  const logapi = q.get('logapi');
  if (logapi) s.logapi = logapi;
  return s;
}

// The query without the page-local choices, for links to other pages.
export function withoutPageKeys(search: string): string {
  const q = new URLSearchParams(search);
  for (const k of PAGE_KEYS) q.delete(k);
  const out = q.toString();
  return out ? `?${out}` : '';
}

// Writes the full state (defaults included) so the link says what it shows.
export function encodeState(s: ViewState): string {
  const q = new URLSearchParams();
  if ('preset' in s.range) q.set('range', s.range.preset);
  else {
    q.set('from', s.range.from);
    q.set('to', s.range.to);
  }
  q.set('gran', s.gran);
  q.set('tz', s.tz);
  q.set('refresh', String(s.refresh));
  if (s.tenant) q.set('tenant', s.tenant);
  if (s.api) q.set('api', s.api);
  if (s.application) q.set('application', s.application);
  for (const k of PAGE_KEYS) {
    const v = s[k];
    if (v) q.set(k, v);
  }
  return q.toString();
}
