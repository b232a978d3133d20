import { describe, expect, it } from 'vitest';
import type { Point } from '../api/traffic';
import { esc, timeTable, type LineDef } from './build';

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
