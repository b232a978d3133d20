import { describe, expect, it } from 'vitest';
import { autoGranularity, effectiveGranularity } from './granularity';
import { resolveRange } from './ranges';

const now = new Date('2026-06-15T10:00:00Z');
const auto = (id: string) => autoGranularity(resolveRange({ preset: id }, now));

describe('auto granularity', () => {
  it('picks the coarsest granularity with enough points', () => {
    expect(auto('back-1-minute')).toBe('minute');
    expect(auto('back-15-minutes')).toBe('minute');
    expect(auto('last-hour')).toBe('minute');
    expect(auto('last-day')).toBe('hour');
    expect(auto('last-7-days')).toBe('hour');
    expect(auto('last-month')).toBe('day');
    expect(auto('last-3-months')).toBe('day');
    expect(auto('last-year')).toBe('day');
    const decade = { from: new Date('2016-01-01T00:00:00Z'), to: new Date('2026-01-01T00:00:00Z') };
    expect(autoGranularity(decade)).toBe('month');
    const century = { from: new Date('1926-01-01T00:00:00Z'), to: new Date('2026-01-01T00:00:00Z') };
    expect(autoGranularity(century)).toBe('year');
  });

  it('keeps a chosen granularity', () => {
    expect(effectiveGranularity('hour', resolveRange({ preset: 'last-year' }, now))).toBe('hour');
    expect(effectiveGranularity('auto', resolveRange({ preset: 'last-day' }, now))).toBe('hour');
  });
});
