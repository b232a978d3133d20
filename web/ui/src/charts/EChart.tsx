import { useEffect, useRef } from 'react';
import type { EChartsCoreOption, EChartsType } from 'echarts/core';
import { useTheme } from '../theme';
import { usePageSettled } from '../page';

// ECharts (about half a megabyte) is not part of any page's chunk: a page shows
// its KPI tiles and tables as soon as its data is in, and its charts draw when
// the library has arrived. It loads when the first chart is due, once its page
// has settled: loading it earlier, while the page's data requests are under
// way, would put its download, compiling and running before the figures
// whenever the answers come in meanwhile.
type Lib = typeof import('./echarts');
let lib: Promise<Lib> | null = null;
let loaded: Lib | null = null;
function loadECharts(): Promise<Lib> {
  return (lib ??= import('./echarts').then(
    (m) => (loaded = m),
    (e) => {
      lib = null; // a later chart tries again
      throw e;
    },
  ));
}

// Charts are drawn one per task, those in (or near) the viewport first, the
// others when the browser is idle: the page stays responsive while they draw,
// and the first screen's charts do not wait for the ones below the fold. They
// start once their page has settled (page.tsx), and each after a frame, so the
// figures and the page's ready state are painted before the first chart. No
// job runs before the library is in: jobs that waited for it would otherwise
// all draw in the one task in which it arrives.
interface Job {
  visible: boolean;
  run: (l: Lib) => void;
}
const jobs = new Set<Job>();
let scheduled = false;
const idle: (f: () => void) => void =
  typeof requestIdleCallback === 'function' ? (f) => requestIdleCallback(f, { timeout: 1500 }) : (f) => setTimeout(f, 50);

function pump(): void {
  if (scheduled || jobs.size === 0) return;
  scheduled = true;
  if (!loaded) {
    const again = () => {
      scheduled = false;
      if (loaded) pump();
    };
    loadECharts().then(again, again);
    return;
  }
  const visible = [...jobs].some((j) => j.visible);
  const next = () => {
    scheduled = false;
    const job = [...jobs].find((j) => j.visible) ?? (visible ? undefined : [...jobs][0]);
    if (job) {
      jobs.delete(job);
      job.run(loaded!);
    }
    pump();
  };
  if (visible) requestAnimationFrame(() => setTimeout(next, 0));
  else idle(next);
}

const observer =
  typeof IntersectionObserver === 'function'
    ? new IntersectionObserver(
        (entries) => {
          for (const e of entries) {
            const job = (e.target as HTMLElement & { __chartJob?: Job }).__chartJob;
            if (job) job.visible = e.isIntersecting;
          }
          pump();
        },
        { rootMargin: '200px 0px' },
      )
    : null;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// Theme colours come from the page's CSS variables so charts match both themes.
function themed(option: EChartsCoreOption, first: boolean): EChartsCoreOption {
  const text = cssVar('--text');
  const axisText = cssVar('--axis-text') || cssVar('--muted');
  const line = cssVar('--line');
  const panel = cssVar('--panel-2');
  const axis = {
    axisLine: { lineStyle: { color: line } },
    axisLabel: { color: axisText, fontSize: 12 },
    splitLine: { lineStyle: { color: line } },
    nameTextStyle: { color: axisText, fontSize: 12 },
  };
  const o = option as Record<string, unknown>;
  // A chart's own axisLabel settings (width, formatter) keep the theme's colour.
  const one = (x: Record<string, unknown>) => ({
    ...axis,
    ...x,
    axisLabel: { ...axis.axisLabel, ...(x.axisLabel as object) },
    nameTextStyle: { ...axis.nameTextStyle, ...(x.nameTextStyle as object) },
  });
  const merge = (a: unknown) => (Array.isArray(a) ? a.map(one) : a ? one(a as Record<string, unknown>) : a);
  return {
    // The first drawing is not animated: it is cheaper, and the figures show at once.
    animation: !first,
    ...o,
    backgroundColor: 'transparent',
    textStyle: { color: text, fontFamily: 'inherit' },
    xAxis: merge(o.xAxis),
    yAxis: merge(o.yAxis),
    legend: o.legend ? { type: 'scroll', textStyle: { color: text }, pageTextStyle: { color: axisText }, ...(o.legend as object) } : undefined,
    tooltip: o.tooltip ? { backgroundColor: panel, borderColor: line, textStyle: { color: text }, confine: true, ...(o.tooltip as object) } : undefined,
    aria: { enabled: true },
  };
}

// A chart's option, or a function that builds it: then it is built only when
// the chart is drawn, after the page has shown its figures.
export type ChartOption = EChartsCoreOption | (() => EChartsCoreOption);
const built = (o: ChartOption) => (typeof o === 'function' ? o() : o);

export function EChart(props: {
  option: ChartOption;
  height: number;
  label: string;
  onClick?: (p: { seriesId?: string; name?: string; dataIndex: number; data?: unknown }) => void;
  // Horizontal bars: a click anywhere on a category's row counts, not only on
  // its bar (short bars are hard to hit).
  clickRows?: boolean;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);
  const theme = useTheme();
  // Latched: a page that goes back to loading for another panel (a page-local
  // choice) keeps this chart drawn.
  const pageSettled = usePageSettled();
  const latch = useRef(false);
  if (pageSettled) latch.current = true;
  const settled = latch.current;
  const click = useRef(props.onClick);
  click.current = props.onClick;
  const rows = useRef(!!props.clickRows);
  const option = useRef(props.option);
  option.current = props.option;

  useEffect(() => {
    if (!settled) return;
    const node = el.current!;
    let live = true;
    let ro: ResizeObserver | null = null;
    // A chart is never drawn into a box without size (a map cannot be laid
    // out in one); it waits until the box has a size.
    let waiting = false;
    const sized = () => node.clientWidth > 0 && node.clientHeight > 0;
    const job: Job = {
      visible: !observer,
      run: ({ echarts }) => {
        if (!live) return;
        if (!sized()) {
          waiting = true;
          return;
        }
        const c = echarts.init(node, undefined, { renderer: 'canvas' });
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
        c.setOption(themed(built(option.current), true), { notMerge: true });
        // Only a real change of size redraws (the observer also reports the first size).
        let w = node.clientWidth;
        let h = node.clientHeight;
        ro?.disconnect();
        ro = new ResizeObserver(() => {
          if (node.clientWidth === w && node.clientHeight === h) return;
          w = node.clientWidth;
          h = node.clientHeight;
          if (sized()) c.resize();
        });
        ro.observe(node);
      },
    };
    ro = new ResizeObserver(() => {
      if (!waiting || !sized() || !live) return;
      waiting = false;
      jobs.add(job);
      pump();
    });
    ro.observe(node);
    (node as HTMLElement & { __chartJob?: Job }).__chartJob = job;
    jobs.add(job);
    if (observer) observer.observe(node);
    else pump();
    return () => {
      live = false;
      jobs.delete(job);
      observer?.unobserve(node);
      ro?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, [settled]);

  // Later options (a refresh, another theme) go to the drawn chart; before it
  // is drawn, the job above takes the newest option.
  const drawn = useRef(false);
  useEffect(() => {
    if (!drawn.current) {
      drawn.current = true;
      return;
    }
    if (chart.current) chart.current.setOption(themed(built(props.option), false), { notMerge: true });
  }, [props.option, theme]);

  return <div ref={el} className={props.onClick ? 'chart clickable' : 'chart'} style={{ height: props.height }} role="img" aria-label={props.label} />;
}
