import { describe, expect, it } from 'vitest';
import type { Point } from '../api/traffic';
import { esc, latencyOf, timeOption, timeTable, TIME_LABELS, type LineDef } from './build';
import { seriesColor } from '../lib/colors';

const pt = (t: string, requests: number): Point => ({ t, requests, successful: requests, faults: 0, throttled: 0, errors4xx: 0, errors5xx: 0 });

describe('chart data as a table', () => {
  it('puts one row per time and one column per series, missing points empty', () => {
    const lines: LineDef[] = [
      { id: 'a', name: 'A', color: '#000', points: [pt('2026-01-01T01:00:00Z', 5), pt('2026-01-01T00:00:00Z', 3)], get: (p) => p.requests },
      { id: 'b', name: 'B', color: '#000', points: [pt('2026-01-01T01:00:00Z', 7)], get: (p) => p.requests },
    ];
    const t = timeTable(lines, 'utc', String);
    expect(t.columns.map((c) => c.header)).toEqual(['Time (UTC)', 'A', 'B']);
    expect(t.rows.map((r) => [t.columns[0].value(r), t.columns[1].value(r), t.columns[2].value(r)])).toEqual([
      ['2026-01-01 00:00', 3, null],
      ['2026-01-01 01:00', 5, 7],
    ]);
  });

  it('escapes names shown in tooltips', () => {
    expect(esc('<img src=x onerror="a">&')).toBe('&#60;img src=x onerror=&#34;a&#34;&#62;&#38;');
  });
});

describe('chart options', () => {
  it('gives every line of a chart its own colour', () => {
    const lines: LineDef[] = Array.from({ length: 10 }, (_, i) => ({ id: `app-${i}`, name: `App ${i}`, color: seriesColor(`app-${i}`), points: [], get: () => 1 }));
    const o = timeOption(lines, { unit: 'requests', tz: 'utc', exact: String, axis: String }) as { series: { itemStyle: { color: string } }[] };
    expect(new Set(o.series.map((s) => s.itemStyle.color)).size).toBe(10);
  });

  it('labels days with the month name', () => {
    expect(TIME_LABELS.day).toBe('{MMM} {d}');
    expect(TIME_LABELS.hour).toBe('{HH}:{mm}');
  });

  it('leaves latency gaps where a bucket had no requests', () => {
    const p = { ...pt('2026-01-01T00:00:00Z', 0), latency: { p50: 0, p90: 0, p95: 0, p99: 0, avg: 0 } };
    const q = { ...pt('2026-01-01T01:00:00Z', 4), latency: { p50: 5, p90: 8, p95: 9, p99: 12, avg: 6 } };
    expect([p, q].map((x) => latencyOf(x)?.p50 ?? null)).toEqual([null, 5]);
    expect(latencyOf(pt('2026-01-01T02:00:00Z', 3))).toBeNull();
  });
});
