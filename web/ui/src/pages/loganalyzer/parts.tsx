import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { EChartsCoreOption } from 'echarts/core';
import type { LogRecord, Timeline } from '../../api/logs';
import { EChart } from '../../charts/EChart';
import { barOption, esc } from '../../charts/build';
import { DataTable, type Column } from '../../components/DataTable';
import { Panel } from '../../components/Panel';
import { EmptyState } from '../../components/states';
import { downloadCsv, toCsv } from '../../lib/csv';
import { changeRatio, formatChange, formatCount, formatLogTime, formatTime, formatTimeZoned, zoneName } from '../../lib/format';
import { FIRST_PAGE, canNext, canPrev, categoryDef, firstLine, levelColor, levelOf, nextPage, pageCursor, pageRows, prevPage, type Paging } from '../../lib/logs';
import type { Zone } from '../../lib/urlstate';
import { usePanelState, type PanelState } from '../../page';
import type { QueryResult } from '../../query';
import { useView } from '../../view';
import { useContext, useRange, useRecords } from './data';

const HEIGHT = 300;
export const exact = (v: number) => v.toLocaleString('en-US');

// What to do when the range holds no log records: send some.
export function NoLogs({ brief = false, what = 'log records', title }: { brief?: boolean; what?: string; title?: string }) {
  if (brief) return <EmptyState title={title ?? `No ${what} in this range.`} />;
  const origin = location.origin;
  return (
    <EmptyState title={title ?? `No ${what} in this range.`}>
      <p>{title ? 'If' : 'Choose a longer date range. If'} no gateway logs have been sent to this server yet:</p>
      <ul data-testid="no-logs-help">
        <li>
          ship a gateway's log: <code>apilens ship --format carbon --source gw-1 --url {origin} repository/logs/wso2carbon.log</code>
        </li>
        <li>
          or try it with simulated logs: <code>apilens simulate --logs --url {origin}</code>
        </li>
        <li>
          or post a file once: <code>curl -u USER:PASSWORD -H 'Content-Type: text/plain' --data-binary @wso2carbon.log '{origin}/api/v1/logs?format=carbon&amp;source=gw-1'</code>
        </li>
      </ul>
    </EmptyState>
  );
}

function ToggleTable({ on, set }: { on: boolean; set: (v: boolean) => void }) {
  return (
    <button type="button" className="btn btn-small" aria-pressed={on} onClick={() => set(!on)}>
      {on ? 'Chart' : 'Table'}
    </button>
  );
}

// KPI tiles of counted records, with the change against the previous period
// and a sparkline from the timeline.
export interface Tile {
  name: string;
  label: string;
  unit: string;
  value: number | undefined;
  previous?: number;
  spark?: number[];
  // A rise of errors is bad news; of deployments, neither.
  upIsBad?: boolean;
  title?: string;
}

function Spark({ vals }: { vals: number[] }) {
  if (vals.length < 2) return <svg className="spark" aria-hidden="true" />;
  const max = Math.max(...vals) || 1;
  const d = vals.map((v, i) => `${((i / (vals.length - 1)) * 100).toFixed(1)},${(26 - (v / max) * 24).toFixed(1)}`).join(' ');
  return (
    <svg className="spark" viewBox="0 0 100 28" preserveAspectRatio="none" aria-hidden="true">
      <polyline points={d} fill="none" stroke="currentColor" strokeWidth="1.5" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}

export function Tiles({ tiles, state, error, retry }: { tiles: Tile[]; state: PanelState; error?: Error; retry?: () => void }) {
  usePanelState(state);
  if (state === 'loading') {
    return (
      <div className="kpis" aria-hidden="true">
        {tiles.map((t) => (
          <div key={t.name} className="kpi skeleton" />
        ))}
      </div>
    );
  }
  if (state === 'error') {
    return (
      <div className="state state-error" role="alert">
        <p>
          <strong>Could not load this.</strong> {error?.message ?? 'Unknown error.'}
        </p>
        {retry && (
          <button type="button" className="btn" onClick={retry}>
            Retry
          </button>
        )}
      </div>
    );
  }
  return (
    <div className="kpis">
      {tiles.map((t) => {
        const ratio = t.value === undefined || t.previous === undefined ? null : changeRatio(t.value, t.previous);
        const good = ratio === null || ratio === 0 || t.upIsBad === undefined ? '' : ratio > 0 === !t.upIsBad ? 'good' : 'bad';
        return (
          <div key={t.name} className="kpi" data-testid={`kpi-${t.name}`} data-value={t.value ?? ''} data-previous={t.previous ?? ''} title={t.title}>
            <div className="kpi-label">{t.label}</div>
            <div className="kpi-value" title={t.value === undefined ? undefined : String(t.value)}>
              {t.value === undefined ? '–' : formatCount(t.value)}
            </div>
            <div className="kpi-unit">{t.unit}</div>
            <div className={`kpi-change ${good}`} title={t.previous === undefined ? undefined : `Previous period: ${exact(t.previous)}`}>
              {t.previous === undefined ? '' : ratio === null ? (t.value ? `new (none before)` : 'none before either') : formatChange(ratio)}
              {ratio !== null && <span className="muted"> vs previous period</span>}
            </div>
            {t.spark && <Spark vals={t.spark} />}
          </div>
        );
      })}
    </div>
  );
}

// Per-category series of a timeline answer, and the sparkline of one category.
export function timelineSeries(t: Timeline, categories?: string[]): { id: string; name: string; color: string; points: [number, number][] }[] {
  const by = new Map<string, [number, number][]>();
  for (const p of t.points) {
    if (categories && !categories.includes(p.category)) continue;
    let s = by.get(p.category);
    if (!s) by.set(p.category, (s = []));
    s.push([Date.parse(p.t), p.count]);
  }
  const order = categories ?? [...by.keys()];
  return order
    .filter((c) => by.has(c))
    .map((c) => {
      const d = categoryDef(c);
      return { id: c || 'unclassified', name: d.label, color: d.color, points: by.get(c)!.sort((a, b) => a[0] - b[0]) };
    });
}

export function sparkOf(t: Timeline | undefined, category: string | null): number[] {
  if (!t) return [];
  const by = new Map<string, number>();
  for (const p of t.points) if (category === null || p.category === category) by.set(p.t, (by.get(p.t) ?? 0) + p.count);
  return [...by.entries()].sort((a, b) => Date.parse(a[0]) - Date.parse(b[0])).map((e) => e[1]);
}

// The time axis spans the range chosen, not only the steps that have records:
// a few records of one afternoon must not look like a whole range's.
function timelineOption(series: ReturnType<typeof timelineSeries>, tz: Zone, range: { from: string; to: string }): EChartsCoreOption {
  return {
    useUTC: tz === 'utc',
    grid: { left: 8, right: 16, top: 56, bottom: 8, containLabel: true },
    legend: { top: 0, left: 0 },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (params: { marker: string; seriesName: string; value: [number, number] }[]) => {
        if (!params.length) return '';
        const rows = params.filter((p) => p.value[1]).map((p) => `${p.marker}${esc(p.seriesName)}: <b>${exact(p.value[1])}</b>`);
        return [esc(formatTimeZoned(params[0].value[0], tz)), ...rows].join('<br/>');
      },
    },
    xAxis: { type: 'time', min: Date.parse(range.from), max: Date.parse(range.to), axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: 'log records', nameTextStyle: { align: 'left' }, axisLabel: { formatter: formatCount }, minInterval: 1 },
    series: series.map((s) => ({ id: s.id, name: s.name, type: 'bar', stack: 'c', barMaxWidth: 24, itemStyle: { color: s.color }, emphasis: { focus: 'series' }, data: s.points })),
  };
}

interface TimeRow {
  t: number;
  v: Record<string, number>;
}

// Stacked bars of records per category over time (the server picks the step).
export function TimelinePanel(props: { id: string; title: string; subtitle?: ReactNode; query: QueryResult<Timeline>; categories?: string[]; empty?: ReactNode; wide?: boolean }) {
  const [asTable, setAsTable] = useState(false);
  const { state } = useView();
  const testid = `chart-${props.id}`;
  const series = useMemo(() => (props.query.data ? timelineSeries(props.query.data, props.categories) : []), [props.query.data, props.categories]);
  const { from, to } = useRange();
  const option = useMemo(() => timelineOption(series, state.tz, { from, to }), [series, state.tz, from, to]);
  return (
    <Panel
      testid={testid}
      title={props.title}
      subtitle={props.subtitle ?? (props.query.data ? `records per ${props.query.data.step.replace(/m0s$/, 'm').replace(/h0m$/, 'h')} step` : undefined)}
      height={HEIGHT}
      query={props.query}
      wide={props.wide}
      isEmpty={() => series.length === 0}
      empty={props.empty ?? <NoLogs brief />}
      actions={<ToggleTable on={asTable} set={setAsTable} />}
    >
      {() => {
        if (asTable) {
          const byT = new Map<number, TimeRow>();
          for (const s of series)
            for (const [t, v] of s.points) {
              let r = byT.get(t);
              if (!r) byT.set(t, (r = { t, v: {} }));
              r.v[s.id] = v;
            }
          const rows = [...byT.values()].sort((a, b) => a.t - b.t);
          const columns: Column<TimeRow>[] = [
            { id: 't', header: `Time (${zoneName(state.tz)})`, value: (r) => formatTime(r.t, state.tz) },
            ...series.map((s) => ({ id: s.id, header: s.name, value: (r: TimeRow) => r.v[s.id] ?? 0, format: formatCount, numeric: true })),
          ];
          return <DataTable testid={`${testid}-table`} name={testid} columns={columns} rows={rows} rowKey={(r) => String(r.t)} caption={props.title} />;
        }
        return <EChart option={option} height={HEIGHT} label={`${props.title}: ${series.length} categories over time. Use the Table button for the figures.`} />;
      }}
    </Panel>
  );
}

export interface Bar {
  key: string;
  label: string;
  count: number;
  color: string;
  second?: number; // a second figure (deleted, or the previous period)
  code?: string;
}

// Horizontal bars of counts (most first), with a table toggle. A second figure
// makes grouped bars.
export function BarsPanel<T>(props: {
  id: string;
  title: string;
  subtitle?: ReactNode;
  query: QueryResult<T>;
  bars: (d: T) => Bar[];
  names?: [string, string?];
  secondColor?: string;
  labelHeader: string;
  onClick?: (b: Bar) => void;
  selected?: string;
  empty?: ReactNode;
  wide?: boolean;
  height?: number;
  labelWidth?: number;
  extraColumns?: Column<Bar>[];
  footer?: (bars: Bar[]) => ReactNode;
  limit?: number;
}) {
  const [asTable, setAsTable] = useState(false);
  const testid = `chart-${props.id}`;
  const height = props.height ?? HEIGHT;
  const [first = 'Records', second] = props.names ?? [];
  return (
    <Panel
      testid={testid}
      title={props.title}
      subtitle={props.subtitle}
      height={height}
      query={props.query}
      wide={props.wide}
      isEmpty={(d) => props.bars(d).length === 0}
      empty={props.empty ?? <NoLogs brief />}
      actions={<ToggleTable on={asTable} set={setAsTable} />}
    >
      {(d) => {
        const all = props.bars(d);
        const bars = all.slice(0, props.limit ?? 15);
        if (asTable) {
          const columns: Column<Bar>[] = [
            { id: 'label', header: props.labelHeader, value: (b) => b.label },
            ...(props.extraColumns ?? []),
            { id: 'count', header: first, value: (b) => b.count, format: formatCount, numeric: true },
            ...(second ? [{ id: 'second', header: second, value: (b: Bar) => b.second ?? 0, format: formatCount, numeric: true }] : []),
          ];
          return <DataTable testid={`${testid}-table`} name={testid} columns={columns} rows={all} rowKey={(b) => b.key} caption={props.title} onRowClick={props.onClick} initialSort={[{ id: 'count', desc: true }]} />;
        }
        const dim = !!props.selected && bars.some((b) => b.key === props.selected);
        const metrics = [
          // With a second figure the legend needs one colour per series.
          { id: 'count', name: first, color: second ? (bars[0]?.color ?? '#d89a00') : (b: Bar) => (dim && b.key !== props.selected ? fade(b.color) : b.color), get: (b: Bar) => b.count },
          ...(second ? [{ id: 'second', name: second, color: props.secondColor ?? '#8b93a1', get: (b: Bar) => b.second ?? 0 }] : []),
        ];
        const o = barOption(bars, (b) => b.label, metrics, { unit: 'log records', exact, axis: formatCount }) as Record<string, unknown>;
        // Grouped bars keep one colour per series (the legend's); the bars
        // of the categories not selected are faded item by item.
        const series = (o.series as { itemStyle?: { color?: string }; data: { itemStyle?: { color: string } }[] }[]).map((sr) => {
          const c = sr.itemStyle?.color;
          if (!dim || !c) return sr;
          return { ...sr, data: sr.data.map((d, i) => (bars[bars.length - 1 - i]?.key === props.selected ? d : { ...d, itemStyle: { color: fade(c) } })) };
        });
        const option = {
          ...o,
          series,
          // Counts of records: whole numbers on the axis.
          xAxis: { ...(o.xAxis as object), minInterval: 1 },
          yAxis: { ...(o.yAxis as object), axisLabel: { width: props.labelWidth ?? 220, overflow: 'break', lineHeight: 14 } },
        };
        // Room for every row's label (two lines for long ones), however many bars.
        const chartHeight = Math.max(height, bars.length * 30 + (second ? 100 : 72));
        return (
          <>
            <EChart
              option={option}
              height={chartHeight}
              label={`${props.title}: ${bars.map((b) => `${b.label} ${b.count}`).join(', ')}`}
              onClick={props.onClick ? (p) => { const b = bars[bars.length - 1 - p.dataIndex]; if (b) props.onClick!(b); } : undefined}
              clickRows
            />
            {props.footer?.(all)}
          </>
        );
      }}
    </Panel>
  );
}

function fade(hex: string): string {
  return /^#[0-9a-f]{6}$/i.test(hex) ? hex + '59' : hex;
}

// A page of records from the server, ordered by timestamp there (order=asc|desc
// in the URL) and paged with the answer's cursor.
export function RecordsPanel(props: { id: string; title: string; subtitle?: ReactNode; category: string; status?: string; api?: string; total?: number; showStatus?: boolean; showApi?: boolean; showLevel?: boolean; empty?: ReactNode }) {
  const { state, update } = useView();
  const order = state.order ?? 'desc';
  const [limit, setLimit] = useState(25);
  const resetKey = `${props.category}|${props.status ?? ''}|${props.api ?? ''}|${order}|${limit}|${JSON.stringify(state.range)}`;
  const [pg, setPg] = useState<{ key: string; p: Paging }>({ key: resetKey, p: FIRST_PAGE });
  const paging = pg.key === resetKey ? pg.p : FIRST_PAGE;
  const query = useRecords({ category: props.category, status: props.status, api: props.api || undefined, order, limit, cursor: pageCursor(paging) });
  const zone = zoneName(state.tz);
  const columns: { id: string; header: string; value: (r: LogRecord) => string; shown?: (r: LogRecord) => ReactNode }[] = [
    { id: 'timestamp', header: `Timestamp (${zone})`, value: (r) => r.timestamp, shown: (r) => formatLogTime(r.timestamp, state.tz) },
    ...(props.showLevel ? [{ id: 'level', header: 'Level', value: (r: LogRecord) => r.level, shown: (r: LogRecord) => <span className={`lvl lvl-${levelOf(r.level)}`}>{r.level || 'RAW'}</span> }] : []),
    ...(props.showStatus === false ? [] : [{ id: 'status', header: 'Status', value: (r: LogRecord) => r.status, shown: (r: LogRecord) => (r.code ? `${r.status} (${r.code})` : r.status) }]),
    ...(props.showApi ? [{ id: 'api', header: 'API', value: (r: LogRecord) => r.api, shown: (r: LogRecord) => <span className="nowrap">{r.api}</span> }] : []),
    { id: 'content', header: 'Content', value: (r) => r.content, shown: (r) => <span className="rec-content" title={r.content.length > 2000 ? r.content.slice(0, 2000) + '…' : r.content}>{firstLine(r.content)}</span> },
  ];
  const go = (p: Paging) => setPg({ key: resetKey, p });
  const sort = () => update({ order: order === 'desc' ? 'asc' : 'desc' }, false);

  return (
    <Panel
      testid={`panel-${props.id}`}
      title={props.title}
      subtitle={props.subtitle}
      height={240}
      wide
      query={query}
      isEmpty={(d) => d.records.length === 0 && paging.index === 0}
      empty={props.empty ?? <NoLogs brief />}
    >
      {(d) => (
        <div className="table-wrap">
          <div className="table-scroll">
            <table data-testid={`table-${props.id}`} data-order={order} className="records">
              <caption className="sr-only">{props.title}</caption>
              <thead>
                <tr>
                  {columns.map((c) =>
                    c.id === 'timestamp' ? (
                      <th key={c.id} data-column={c.id} aria-sort={order === 'asc' ? 'ascending' : 'descending'}>
                        <button type="button" className="sort" data-testid="sort-timestamp" onClick={sort} title={`Sorted ${order === 'asc' ? 'oldest' : 'newest'} first; click for ${order === 'asc' ? 'newest' : 'oldest'} first`}>
                          {c.header}
                          <span className="arrow" aria-hidden="true">
                            {order === 'asc' ? '▲' : '▼'}
                          </span>
                        </button>
                      </th>
                    ) : (
                      <th key={c.id} data-column={c.id}>
                        <span className="th-plain">{c.header}</span>
                      </th>
                    ),
                  )}
                  <th className="actions">View</th>
                </tr>
              </thead>
              <tbody>
                {d.records.map((r) => (
                  <tr key={r.id} data-key={r.id} aria-selected={state.record === String(r.id)} className={state.record === String(r.id) ? 'selected' : undefined}>
                    {columns.map((c) => (
                      <td key={c.id} data-column={c.id} data-value={c.value(r)} className={c.id === 'timestamp' ? 'nowrap' : undefined}>
                        {c.shown ? c.shown(r) : c.value(r)}
                      </td>
                    ))}
                    <td className="actions">
                      <button type="button" className="btn btn-small" data-testid={`view-${r.id}`} onClick={() => update({ record: String(r.id) })} aria-label={`View record ${r.id} in the log viewer`}>
                        View
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="table-foot">
            <span className="muted" data-testid={`table-${props.id}-count`}>
              {pageRows(paging, limit, d.records.length)}
              {props.total !== undefined && d.records.length > 0 ? ` of ${exact(props.total)} records` : d.next ? ' (more on the next pages)' : d.records.length ? ' records' : ''}
            </span>
            <span className="pager">
              <label>
                Rows per page{' '}
                <select value={limit} onChange={(e) => setLimit(Number(e.target.value))} data-testid={`${props.id}-limit`}>
                  {[25, 50, 100, 200].map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>
              </label>
              <button type="button" className="btn btn-small" data-testid={`${props.id}-prev`} onClick={() => go(prevPage(paging))} disabled={!canPrev(paging)} aria-label="Previous page">
                ‹
              </button>
              <button type="button" className="btn btn-small" data-testid={`${props.id}-next`} onClick={() => go(nextPage(paging, d.next))} disabled={!canNext(d.next)} aria-label="Next page">
                ›
              </button>
              <button
                type="button"
                className="btn btn-small"
                disabled={d.records.length === 0}
                onClick={() =>
                  downloadCsv(
                    `${props.id}.csv`,
                    toCsv(
                      [
                        { header: 'id', value: (r: LogRecord) => r.id },
                        { header: 'timestamp', value: (r: LogRecord) => r.timestamp },
                        { header: 'source', value: (r: LogRecord) => r.source },
                        { header: 'level', value: (r: LogRecord) => r.level },
                        { header: 'category', value: (r: LogRecord) => r.category },
                        { header: 'status', value: (r: LogRecord) => r.status },
                        { header: 'code', value: (r: LogRecord) => r.code },
                        { header: 'api', value: (r: LogRecord) => r.api },
                        { header: 'content', value: (r: LogRecord) => r.content },
                      ],
                      d.records,
                    ),
                  )
                }
              >
                Export CSV
              </button>
            </span>
          </div>
        </div>
      )}
    </Panel>
  );
}

// One log line, coloured by level; the content keeps its line breaks.
export function LogLine({ r, tz, selected, refEl, showSource }: { r: LogRecord; tz: Zone; selected?: boolean; refEl?: (el: HTMLDivElement | null) => void; showSource?: boolean }) {
  const lvl = levelOf(r.level);
  return (
    <div ref={refEl} className={`log-line lvl-${lvl}${selected ? ' selected' : ''}`} data-testid="log-line" data-id={r.id} data-level={r.level} data-selected={selected ? 'true' : undefined} aria-current={selected ? 'true' : undefined}>
      <span className="log-time">{formatLogTime(r.timestamp, tz)}</span>
      <span className="log-level" style={{ color: levelColor(r.level) }}>{r.level || 'RAW'}</span>
      {showSource && <span className="log-source">{r.source}</span>}
      <span className="log-content">{r.content}</span>
    </div>
  );
}

// The Log Viewer: the chosen record with the 100 records before and after it
// from the same source, the chosen one highlighted and scrolled into view.
export function LogViewer({ id }: { id: string }) {
  const { update, state } = useView();
  const query = useContext(id);
  return (
    <Panel
      testid="log-viewer"
      title="Log Viewer"
      subtitle={
        query.data ? (
          <>
            Source <strong>{query.data.record.source}</strong> · record {id} with the {query.data.before.length} lines before and {query.data.after.length} after it · times in {zoneName(state.tz)}
          </>
        ) : (
          `Record ${id}`
        )
      }
      height={420}
      wide
      query={query}
      actions={
        <button type="button" className="btn btn-small" data-testid="log-viewer-close" onClick={() => update({ record: undefined })}>
          Close
        </button>
      }
    >
      {(c) => <ViewerLines ctx={c} id={id} />}
    </Panel>
  );
}

function ViewerLines({ ctx, id }: { ctx: { record: LogRecord; before: LogRecord[]; after: LogRecord[] }; id: string }) {
  const { state } = useView();
  const box = useRef<HTMLDivElement>(null);
  const sel = useRef<HTMLDivElement | null>(null);
  useEffect(() => {
    const b = box.current;
    const s = sel.current;
    if (!b || !s) return;
    // Centre the chosen line in the viewer and the viewer in the window.
    const centre = () => s.scrollIntoView({ block: 'center' });
    centre();
    // Panels above may still be loading (a link or a reload with record= in
    // the URL): keep the line in sight while the page's layout settles, until
    // the reader does something or for a few seconds.
    const page = b.closest('main') ?? document.body;
    let done = false;
    const ro = new ResizeObserver(() => {
      if (!done) centre();
    });
    ro.observe(page);
    const stop = () => {
      done = true;
      ro.disconnect();
    };
    const events = ['wheel', 'touchstart', 'keydown', 'pointerdown'] as const;
    for (const e of events) window.addEventListener(e, stop, { passive: true, once: true });
    const timer = setTimeout(stop, 4000);
    return () => {
      stop();
      clearTimeout(timer);
      for (const e of events) window.removeEventListener(e, stop);
    };
  }, [id, ctx]);
  const lines = [...ctx.before, ctx.record, ...ctx.after];
  return (
    <div className="log-lines" ref={box} role="log" aria-label="Log lines around the chosen record" data-testid="log-lines" data-before={ctx.before.length} data-after={ctx.after.length} data-record={ctx.record.id}>
      {lines.map((r) => (
        <LogLine key={r.id} r={r} tz={state.tz} selected={r.id === ctx.record.id} refEl={r.id === ctx.record.id ? (el) => void (sel.current = el) : undefined} />
      ))}
    </div>
  );
}
