import type { Zone } from './urlstate';

// Numbers read the way people speak (UI.md); exact values go to tooltips,
// data-value attributes and CSV exports instead.

function trim(n: number, digits: number): string {
  return n.toFixed(digits).replace(/\.0+$|(\.\d*?)0+$/, '$1');
}

const SUFFIXES: [number, string][] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

export function formatCount(n: number): string {
  if (!isFinite(n)) return '–';
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  if (a < 1000) return sign + (Number.isInteger(a) ? String(a) : trim(a, 1));
  for (let i = 0; i < SUFFIXES.length; i++) {
    const [base, suffix] = SUFFIXES[i];
    if (a >= base) {
      const v = a / base;
      // 999,950 rounds to "1000k": say "1M" instead.
      if (Number(v.toFixed(1)) >= 1000 && i > 0) return sign + trim(v / 1000, 1) + SUFFIXES[i - 1][1];
      return sign + trim(v, 1) + suffix;
    }
  }
  return sign + String(a);
}

export function formatLatency(ms: number): string {
  if (!isFinite(ms)) return '–';
  if (ms >= 1000) {
    const s = ms / 1000;
    return `${trim(s, s >= 100 ? 0 : 1)} s`;
  }
  if (ms < 10 && ms !== 0 && !Number.isInteger(ms)) return `${trim(ms, 1)} ms`;
  return `${Math.round(ms)} ms`;
}

// ratio: 0.9995 → "99.95 %"
export function formatPercent(ratio: number): string {
  if (!isFinite(ratio)) return '–';
  return `${trim(ratio * 100, 2)} %`;
}

// The change of a KPI against the previous period; null when there is nothing to compare with.
export function changeRatio(current: number, previous: number): number | null {
  if (previous === 0) return null;
  return (current - previous) / previous;
}

export function formatChange(ratio: number | null): string {
  if (ratio === null) return 'no earlier data to compare';
  const sign = ratio > 0 ? '+' : ratio < 0 ? '−' : '±';
  return `${sign}${trim(Math.abs(ratio) * 100, 1)} %`;
}

// The local zone's IANA name. Temporal answers it at once; Intl only after
// building a date formatter, a long task on a slow machine (hundreds of ms in
// software-rendering chromium), so that is the fallback, and the answer is
// kept. Both read the same zone setting, so the names agree.
let localZone: string | undefined;
export function zoneName(tz: Zone): string {
  if (tz === 'utc') return 'UTC';
  const temporal = (globalThis as { Temporal?: { Now?: { timeZoneId?: () => string } } }).Temporal;
  return (localZone ??= temporal?.Now?.timeZoneId?.() || Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time');
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

// "2026-11-23 15:55" (seconds when asked) in the chosen zone; ISO-like so that
// day and month order is never ambiguous.
export function formatTime(t: string | number | Date, tz: Zone, seconds = false): string {
  const d = new Date(t);
  if (isNaN(d.getTime())) return String(t);
  const utc = tz === 'utc';
  const y = utc ? d.getUTCFullYear() : d.getFullYear();
  const mo = (utc ? d.getUTCMonth() : d.getMonth()) + 1;
  const day = utc ? d.getUTCDate() : d.getDate();
  const h = utc ? d.getUTCHours() : d.getHours();
  const mi = utc ? d.getUTCMinutes() : d.getMinutes();
  const s = utc ? d.getUTCSeconds() : d.getSeconds();
  return `${y}-${pad(mo)}-${pad(day)} ${pad(h)}:${pad(mi)}${seconds ? ':' + pad(s) : ''}`;
}

// The same with the zone named, for anything shown without a column header to say it.
export function formatTimeZoned(t: string | number | Date, tz: Zone, seconds = false): string {
  return `${formatTime(t, tz, seconds)} ${zoneName(tz)}`;
}

// The value a datetime-local input holds for an instant, in the chosen zone.
export function toDatetimeLocal(d: Date, tz: Zone): string {
  return formatTime(d, tz).replace(' ', 'T');
}

// And back: a datetime-local value read in the chosen zone, as an RFC 3339 instant.
export function fromDatetimeLocal(v: string, tz: Zone): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  const date = tz === 'utc' ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s);
  if (isNaN(date.getTime())) return null;
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

// A log line's time to the millisecond in the chosen zone: "2026-11-23 15:55:02.123".
export function formatLogTime(t: string | number | Date, tz: Zone): string {
  const d = new Date(t);
  if (isNaN(d.getTime())) return String(t);
  return `${formatTime(d, tz, true)}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
}
