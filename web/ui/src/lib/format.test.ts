import { describe, expect, it } from 'vitest';
import { changeRatio, formatChange, formatCount, formatLatency, formatLogTime, formatPercent, formatTime, formatTimeZoned, fromDatetimeLocal, toDatetimeLocal, zoneName } from './format';

describe('numbers', () => {
  it('counts', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(84)).toBe('84');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1000)).toBe('1k');
    expect(formatCount(12400)).toBe('12.4k');
    expect(formatCount(12449)).toBe('12.4k');
    expect(formatCount(999_950)).toBe('1M');
    expect(formatCount(3_100_000)).toBe('3.1M');
    expect(formatCount(2_500_000_000)).toBe('2.5G');
    expect(formatCount(-1500)).toBe('-1.5k');
  });

  it('latency', () => {
    expect(formatLatency(84)).toBe('84 ms');
    expect(formatLatency(84.4)).toBe('84 ms');
    expect(formatLatency(2.46)).toBe('2.5 ms');
    expect(formatLatency(0)).toBe('0 ms');
    expect(formatLatency(1200)).toBe('1.2 s');
    expect(formatLatency(1000)).toBe('1 s');
    expect(formatLatency(125_000)).toBe('125 s');
  });

  it('percent', () => {
    expect(formatPercent(0.9995)).toBe('99.95 %');
    expect(formatPercent(1)).toBe('100 %');
    expect(formatPercent(0.5)).toBe('50 %');
    expect(formatPercent(0.12345)).toBe('12.35 %');
    expect(formatPercent(0)).toBe('0 %');
  });

  it('change against the previous period', () => {
    expect(changeRatio(150, 100)).toBe(0.5);
    expect(changeRatio(5, 0)).toBeNull();
    expect(formatChange(0.5)).toBe('+50 %');
    expect(formatChange(-0.123)).toBe('−12.3 %');
    expect(formatChange(0)).toBe('±0 %');
    expect(formatChange(null)).toBe('no earlier data to compare');
  });
});

describe('timestamps', () => {
  const t = '2026-11-23T15:05:09Z';
  it('formats in UTC with the zone named', () => {
    expect(formatTime(t, 'utc')).toBe('2026-11-23 15:05');
    expect(formatTime(t, 'utc', true)).toBe('2026-11-23 15:05:09');
    expect(formatTimeZoned(t, 'utc')).toBe('2026-11-23 15:05 UTC');
  });

  it('formats in local time with the local zone named', () => {
    const d = new Date(t);
    const p = (n: number) => String(n).padStart(2, '0');
    const expected = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
    expect(formatTime(t, 'local')).toBe(expected);
    expect(formatTimeZoned(t, 'local')).toBe(`${expected} ${zoneName('local')}`);
    expect(zoneName('local')).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('round-trips datetime-local values in both zones', () => {
    expect(toDatetimeLocal(new Date(t), 'utc')).toBe('2026-11-23T15:05');
    expect(fromDatetimeLocal('2026-11-23T15:05', 'utc')).toBe('2026-11-23T15:05:00Z');
    const local = fromDatetimeLocal('2026-11-23T15:05', 'local')!;
    expect(toDatetimeLocal(new Date(local), 'local')).toBe('2026-11-23T15:05');
    expect(fromDatetimeLocal('yesterday', 'utc')).toBeNull();
  });
});

describe('log times', () => {
  it('shows milliseconds in the chosen zone', () => {
    expect(formatLogTime('2026-03-01T10:15:30.045Z', 'utc')).toBe('2026-03-01 10:15:30.045');
    expect(formatLogTime('x', 'utc')).toBe('x');
  });
});
