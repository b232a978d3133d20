import { describe, expect, it } from 'vitest';
import { BACK_RANGES, PRESETS, previousPeriod, resolveRange, subtractMonths, rangeLabel } from './ranges';

const now = new Date('2026-03-31T12:34:56Z');

describe('presets', () => {
  it('lists the presets of REFERENCE §6 in order', () => {
    expect(PRESETS.map((p) => p.label)).toEqual([
      'Last Hour', 'Last Day', 'Last 7 Days', 'Last 30 Days', 'Last Month', 'Last 3 Months', 'Last 6 Months', 'Last Year',
    ]);
    expect(BACK_RANGES.map((p) => p.label)).toEqual(['1 minute', '15 minutes', '1 hour', '1 day', '7 days', '1 month']);
  });

  it('resolves "last N" to N units ending now', () => {
    const cases: [string, string][] = [
      ['last-hour', '2026-03-31T11:34:56.000Z'],
      ['last-day', '2026-03-30T12:34:56.000Z'],
      ['last-7-days', '2026-03-24T12:34:56.000Z'],
      ['last-30-days', '2026-03-01T12:34:56.000Z'],
      ['last-month', '2026-02-28T12:34:56.000Z'],
      ['last-3-months', '2025-12-31T12:34:56.000Z'],
      ['last-6-months', '2025-09-30T12:34:56.000Z'],
      ['last-year', '2025-03-31T12:34:56.000Z'],
      ['back-1-minute', '2026-03-31T12:33:56.000Z'],
      ['back-15-minutes', '2026-03-31T12:19:56.000Z'],
      ['back-1-hour', '2026-03-31T11:34:56.000Z'],
      ['back-1-day', '2026-03-30T12:34:56.000Z'],
      ['back-7-days', '2026-03-24T12:34:56.000Z'],
      ['back-1-month', '2026-02-28T12:34:56.000Z'],
    ];
    for (const [id, from] of cases) {
      const r = resolveRange({ preset: id }, now);
      expect(r.from.toISOString(), id).toBe(from);
      expect(r.to).toEqual(now);
    }
  });

  it('clamps month arithmetic to the end of the month, leap years included', () => {
    expect(subtractMonths(new Date('2024-03-31T00:00:00Z'), 1).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(subtractMonths(new Date('2026-01-15T08:00:00Z'), 1).toISOString()).toBe('2025-12-15T08:00:00.000Z');
    expect(subtractMonths(new Date('2026-05-31T00:00:00Z'), 3).toISOString()).toBe('2026-02-28T00:00:00.000Z');
  });

  it('resolves a custom range as given and falls back to the default when broken', () => {
    const r = resolveRange({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' }, now);
    expect(r.from.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(r.to.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    const inverted = resolveRange({ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, now);
    expect(inverted.from.toISOString()).toBe('2025-12-31T12:34:56.000Z');
    expect(resolveRange({ preset: 'nonsense' }, now).from.toISOString()).toBe('2025-12-31T12:34:56.000Z');
  });

  it('gives the previous period of the same length', () => {
    const p = previousPeriod({ from: new Date('2026-01-02T00:00:00Z'), to: new Date('2026-01-03T06:00:00Z') });
    expect(p.from.toISOString()).toBe('2025-12-31T18:00:00.000Z');
    expect(p.to.toISOString()).toBe('2026-01-02T00:00:00.000Z');
  });

  it('labels ranges', () => {
    expect(rangeLabel({ preset: 'last-3-months' })).toBe('Last 3 Months');
    expect(rangeLabel({ preset: 'back-15-minutes' })).toBe('Back 15 minutes');
    expect(rangeLabel({ from: 'a', to: 'b' })).toBe('Custom');
  });
});
