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
}

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

  return {
    range,
    gran,
    tz,
    refresh,
    tenant: q.get('tenant') ?? '',
    api: q.get('api') ?? '',
    application: q.get('application') ?? '',
  };
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
  return q.toString();
}
