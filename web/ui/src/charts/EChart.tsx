import { useEffect, useRef } from 'react';
import { echarts } from './echarts';
import type { EChartsCoreOption } from 'echarts/core';
import { useTheme } from '../theme';

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// Theme colours come from the page's CSS variables so charts match both themes.
function themed(option: EChartsCoreOption): EChartsCoreOption {
  const text = cssVar('--text');
  const muted = cssVar('--muted');
  const line = cssVar('--line');
  const panel = cssVar('--panel-2');
  const axis = { axisLine: { lineStyle: { color: line } }, axisLabel: { color: muted }, splitLine: { lineStyle: { color: line } }, nameTextStyle: { color: muted } };
  const o = option as Record<string, unknown>;
  // A chart's own axisLabel settings (width, formatter) keep the theme's colour.
  const one = (x: Record<string, unknown>) => ({ ...axis, ...x, axisLabel: { ...axis.axisLabel, ...(x.axisLabel as object) } });
  const merge = (a: unknown) => (Array.isArray(a) ? a.map(one) : a ? one(a as Record<string, unknown>) : a);
  return {
    ...o,
    backgroundColor: 'transparent',
    textStyle: { color: text, fontFamily: 'inherit' },
    xAxis: merge(o.xAxis),
    yAxis: merge(o.yAxis),
    legend: o.legend ? { type: 'scroll', textStyle: { color: text }, pageTextStyle: { color: muted }, ...(o.legend as object) } : undefined,
    tooltip: o.tooltip ? { backgroundColor: panel, borderColor: line, textStyle: { color: text }, confine: true, ...(o.tooltip as object) } : undefined,
    aria: { enabled: true },
  };
}

export function EChart(props: {
  option: EChartsCoreOption;
  height: number;
  label: string;
  onClick?: (p: { seriesId?: string; name?: string; dataIndex: number; data?: unknown }) => void;
  // Horizontal bars: a click anywhere on a category's row counts, not only on
  // its bar (short bars are hard to hit).
  clickRows?: boolean;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<typeof echarts.init> | null>(null);
  const theme = useTheme();
  const click = useRef(props.onClick);
  click.current = props.onClick;
  const rows = useRef(!!props.clickRows);

  useEffect(() => {
    const c = echarts.init(el.current!, undefined, { renderer: 'canvas' });
    chart.current = c;
    if (rows.current) {
      c.getZr().on('click', (e) => {
        const at = [e.offsetX, e.offsetY];
        if (!click.current || !c.containPixel({ gridIndex: 0 }, at)) return;
        const v = c.convertFromPixel({ gridIndex: 0 }, at) as number[];
        if (Array.isArray(v) && Number.isFinite(v[1])) click.current({ dataIndex: Math.round(v[1]) });
      });
    } else {
      c.on('click', (p) => click.current?.(p as never));
    }
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current!);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(themed(props.option), { notMerge: true });
  }, [props.option, theme]);

  return <div ref={el} className={props.onClick ? 'chart clickable' : 'chart'} style={{ height: props.height }} role="img" aria-label={props.label} />;
}
