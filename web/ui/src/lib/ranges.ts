// Date ranges of the picker (REFERENCE §6). The 3.x dashboards snapped presets to
// period starts ("Last Day" meant yesterday); apilens makes every "last N" mean the
// N units ending now, so a range always ends at the moment it is resolved.

export type Unit = 'minute' | 'hour' | 'day' | 'month' | 'year';

export interface Preset {
  id: string;
  label: string;
  count: number;
  unit: Unit;
}

export const PRESETS: Preset[] = [
  { id: 'last-hour', label: 'Last Hour', count: 1, unit: 'hour' },
  { id: 'last-day', label: 'Last Day', count: 1, unit: 'day' },
  { id: 'last-7-days', label: 'Last 7 Days', count: 7, unit: 'day' },
  // The 2.x log analyzer's interval (seed 000): offered everywhere, not only there.
  { id: 'last-30-days', label: 'Last 30 Days', count: 30, unit: 'day' },
  { id: 'last-month', label: 'Last Month', count: 1, unit: 'month' },
  { id: 'last-3-months', label: 'Last 3 Months', count: 3, unit: 'month' },
  { id: 'last-6-months', label: 'Last 6 Months', count: 6, unit: 'month' },
  { id: 'last-year', label: 'Last Year', count: 1, unit: 'year' },
];

// "Back" ranges: short windows ending now, for watching live traffic.
export const BACK_RANGES: Preset[] = [
  { id: 'back-1-minute', label: '1 minute', count: 1, unit: 'minute' },
  { id: 'back-15-minutes', label: '15 minutes', count: 15, unit: 'minute' },
  { id: 'back-1-hour', label: '1 hour', count: 1, unit: 'hour' },
  { id: 'back-1-day', label: '1 day', count: 1, unit: 'day' },
  { id: 'back-7-days', label: '7 days', count: 7, unit: 'day' },
  { id: 'back-1-month', label: '1 month', count: 1, unit: 'month' },
];

export const DEFAULT_RANGE = 'last-3-months';

const ALL = [...PRESETS, ...BACK_RANGES];

export function findPreset(id: string): Preset | undefined {
  return ALL.find((p) => p.id === id);
}

export interface Resolved {
  from: Date;
  to: Date;
}

// Calendar months are subtracted in UTC and clamped to the month's last day, so
// "1 month before 31 March" is 28/29 February rather than 3 March.
export function subtractMonths(d: Date, months: number): Date {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() - months;
  const target = new Date(d.getTime());
  target.setUTCDate(1);
  target.setUTCFullYear(y, m, 1);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target;
}

const MS: Record<'minute' | 'hour' | 'day', number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export function resolvePreset(p: Preset, now: Date): Resolved {
  switch (p.unit) {
    case 'month':
      return { from: subtractMonths(now, p.count), to: now };
    case 'year':
      return { from: subtractMonths(now, 12 * p.count), to: now };
    default:
      return { from: new Date(now.getTime() - p.count * MS[p.unit]), to: now };
  }
}

export type RangeSpec = { preset: string } | { from: string; to: string };

// Resolves a range to absolute instants; an unknown preset or an unparsable or
// inverted custom range falls back to the default, so a mangled link still opens.
export function resolveRange(spec: RangeSpec, now: Date): Resolved {
  if ('preset' in spec) {
    return resolvePreset(findPreset(spec.preset) ?? findPreset(DEFAULT_RANGE)!, now);
  }
  const from = new Date(spec.from);
  const to = new Date(spec.to);
  if (isNaN(from.getTime()) || isNaN(to.getTime()) || from >= to) {
    return resolvePreset(findPreset(DEFAULT_RANGE)!, now);
  }
  return { from, to };
}

// The period of the same length just before, for the KPI tiles' change figures.
export function previousPeriod(r: Resolved): Resolved {
  const len = r.to.getTime() - r.from.getTime();
  return { from: new Date(r.from.getTime() - len), to: new Date(r.from.getTime()) };
}

export function rangeLabel(spec: RangeSpec): string {
  if ('preset' in spec) {
    const p = findPreset(spec.preset);
    if (!p) return 'Last 3 Months';
    return p.id.startsWith('back-') ? `Back ${p.label}` : p.label;
  }
  return 'Custom';
}
