import type { EChartsCoreOption } from 'echarts/core';
import type { Point } from '../api/traffic';
import type { Column } from '../components/DataTable';
import { formatTime, formatTimeZoned, zoneName } from '../lib/format';
import type { Zone } from '../lib/urlstate';
import { separateColors } from '../lib/colors';

// Chart options and the table of the same data (the charts' accessible summary).

export interface LineDef {
  id: string;
  name: string;
  color: string;
  points: Point[];
  get: (p: Point) => number | null;
  stack?: string;
  type?: 'line' | 'bar';
  // Extra exact figures for the tooltip (latency shows p50/p95/p99 together).
  detail?: (p: Point) => string;
}

// A bucket's latency, or null where it had no requests or no measurement: the
// lines then leave a gap there instead of dropping to 0 ms.
export const latencyOf = (p: Point) => (p.requests > 0 && p.latency ? p.latency : null);

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The grid shrinks so that axis labels and axis names fit inside the chart
// (containLabel alone leaves the names out, and they were cut off).
const GRID_FIT = { outerBoundsMode: 'same', outerBoundsContain: 'all' } as const;

// Time axis labels by level: month names with the day ("Sep 29", "Oct 6"),
// hours and minutes within a day; ECharts applies them in the chart's zone
// (useUTC), the one chosen in the top bar.
export const TIME_LABELS = {
  year: '{yyyy}',
  month: '{MMM} {d}',
  day: '{MMM} {d}',
  hour: '{HH}:{mm}',
  minute: '{HH}:{mm}',
  second: '{HH}:{mm}:{ss}',
  millisecond: '{HH}:{mm}:{ss}',
  none: '{MMM} {d} {HH}:{mm}',
};

export function timeOption(lines: LineDef[], o: { unit: string; tz: Zone; exact: (v: number) => string; axis: (v: number) => string }): EChartsCoreOption {
  const colors = separateColors(lines.map((l) => ({ key: l.id, color: l.color })));
  return {
    useUTC: o.tz === 'utc',
    grid: { left: 8, right: 16, top: 56, bottom: 8, ...GRID_FIT },
    legend: { top: 0, left: 0 },
    tooltip: {
      trigger: 'axis',
      formatter: (params: { seriesId: string; marker: string; seriesName: string; value: [number, number | null]; dataIndex: number }[]) => {
        if (!params.length) return '';
        const head = esc(formatTimeZoned(params[0].value[0], o.tz));
        const rows = params
          .filter((p) => p.value[1] !== null)
          .map((p) => {
            const line = lines.find((l) => l.id === p.seriesId);
            const extra = line?.detail ? ` <span style="opacity:.75">(${esc(line.detail(line.points[p.dataIndex]))})</span>` : '';
            return `${p.marker}${esc(p.seriesName)}: <b>${esc(o.exact(p.value[1] as number))}</b>${extra}`;
          });
        return [head, ...rows].join('<br/>');
      },
    },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true, formatter: TIME_LABELS } },
    yAxis: { type: 'value', name: o.unit, nameTextStyle: { align: 'left' }, axisLabel: { formatter: o.axis } },
    series: lines.map((l, i) => ({
      id: l.id,
      name: l.name,
      type: l.type ?? 'line',
      stack: l.stack,
      showSymbol: l.points.length < 40,
      symbolSize: 5,
      // A bucket without a figure (null) is a gap, never a drop to 0.
      connectNulls: false,
      itemStyle: { color: colors[i] },
      lineStyle: { width: 2 },
      emphasis: { focus: 'series' },
      data: l.points.map((p) => [Date.parse(p.t), l.get(p)]),
    })),
  };
}

export interface TimeRow {
  t: string;
  values: Record<string, number | null>;
}

export function timeTable(lines: LineDef[], tz: Zone, format: (v: number) => string): { rows: TimeRow[]; columns: Column<TimeRow>[] } {
  const byT = new Map<string, TimeRow>();
  for (const l of lines) {
    for (const p of l.points) {
      let r = byT.get(p.t);
      if (!r) byT.set(p.t, (r = { t: p.t, values: {} }));
      r.values[l.id] = l.get(p);
    }
  }
  const rows = [...byT.values()].sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
  const columns: Column<TimeRow>[] = [
    { id: 't', header: `Time (${zoneName(tz)})`, value: (r) => formatTime(r.t, tz) },
    ...lines.map((l) => ({ id: l.id, header: l.name, value: (r: TimeRow) => r.values[l.id] ?? null, format, numeric: true })),
  ];
  return { rows, columns };
}

export interface BarMetric<T> {
  id: string;
  name: string;
  color: string | ((item: T) => string);
  get: (item: T) => number | null;
  stack?: string;
}

export function barOption<T>(items: T[], label: (i: T) => string, metrics: BarMetric<T>[], o: { unit: string; exact: (v: number) => string; axis: (v: number) => string }): EChartsCoreOption {
  // Horizontal bars, largest at the top: names stay readable however long.
  const shown = [...items].reverse();
  const names = shown.map(label);
  // Bars coloured per item get one distinct hue each (see separateColors).
  const colorsOf = (m: BarMetric<T>) => (typeof m.color === 'function' ? separateColors(shown.map((i, k) => ({ key: names[k], color: (m.color as (i: T) => string)(i) }))) : null);
  return {
    grid: { left: 8, right: 24, top: metrics.length > 1 ? 40 : 16, bottom: 8, ...GRID_FIT },
    legend: metrics.length > 1 ? { top: 0, left: 0 } : undefined,
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (params: { marker: string; seriesName: string; value: number | null; name: string }[]) =>
        [esc(params[0]?.name ?? ''), ...params.filter((p) => p.value !== null).map((p) => `${p.marker}${esc(p.seriesName)}: <b>${esc(o.exact(p.value as number))}</b>`)].join('<br/>'),
    },
    xAxis: { type: 'value', name: o.unit, nameLocation: 'middle', nameGap: 28, axisLabel: { formatter: o.axis } },
    yAxis: { type: 'category', data: names, axisLabel: { width: 180, overflow: 'truncate' } },
    series: metrics.map((m) => {
      const colors = colorsOf(m);
      return {
        id: m.id,
        name: m.name,
        type: 'bar',
        stack: m.stack,
        barMaxWidth: 22,
        itemStyle: typeof m.color === 'string' ? { color: m.color } : undefined,
        data: shown.map((i, k) => ({ value: m.get(i), itemStyle: colors ? { color: colors[k] } : undefined })),
      };
    }),
  };
}
