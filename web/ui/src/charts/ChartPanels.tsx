import { useMemo, useState, type ReactNode } from 'react';
import { Panel } from '../components/Panel';
import { DataTable, type Column } from '../components/DataTable';
import { EChart } from './EChart';
import { barOption, timeOption, timeTable, type BarMetric, type LineDef } from './build';
import type { Timeseries, Top, TopItem } from '../api/traffic';
import type { QueryResult } from '../query';
import { useView } from '../view';
import { NoTraffic } from '../components/states';

const HEIGHT = 300;

export interface Unit {
  name: string; // axis name, e.g. "requests" or "ms"
  format: (v: number) => string; // spoken form for axes
  exact: (v: number) => string; // tooltips
}

function ToggleTable({ on, set }: { on: boolean; set: (v: boolean) => void }) {
  return (
    <button type="button" className="btn btn-small" aria-pressed={on} onClick={() => set(!on)}>
      {on ? 'Chart' : 'Table'}
    </button>
  );
}

// A chart over time with a table toggle showing the same numbers.
export function TimeChartPanel(props: {
  id: string;
  title: string;
  subtitle?: ReactNode;
  query: QueryResult<Timeseries>;
  lines: (ts: Timeseries) => LineDef[];
  unit: Unit;
  onLineClick?: (lineId: string) => void;
  empty?: ReactNode;
  wide?: boolean;
}) {
  const [asTable, setAsTable] = useState(false);
  const { state } = useView();
  const testid = `chart-${props.id}`;
  return (
    <Panel
      testid={testid}
      title={props.title}
      subtitle={props.subtitle}
      height={HEIGHT}
      query={props.query}
      wide={props.wide}
      isEmpty={(ts) => props.lines(ts).every((l) => l.points.every((p) => !l.get(p)))}
      empty={props.empty ?? <NoTraffic brief />}
      actions={<ToggleTable on={asTable} set={setAsTable} />}
    >
      {(ts) => <TimeBody ts={ts} {...props} tz={state.tz} asTable={asTable} testid={testid} />}
    </Panel>
  );
}

function TimeBody(props: { ts: Timeseries; lines: (ts: Timeseries) => LineDef[]; unit: Unit; tz: 'local' | 'utc'; asTable: boolean; testid: string; title: string; onLineClick?: (id: string) => void }) {
  const { ts, lines: make, unit, tz } = props;
  const lines = useMemo(() => make(ts), [make, ts]);
  // Built when the chart is drawn (EChart.tsx), not in the render that shows the page's figures.
  const option = useMemo(() => () => timeOption(lines, { unit: unit.name, tz, exact: unit.exact, axis: unit.format }), [lines, unit, tz]);
  if (props.asTable) {
    const t = timeTable(lines, tz, unit.format);
    return <DataTable testid={`${props.testid}-table`} name={props.testid} columns={t.columns} rows={t.rows} rowKey={(r) => r.t} caption={props.title} />;
  }
  return (
    <EChart
      option={option}
      height={HEIGHT}
      label={`${props.title}: ${lines.length} series over time. Use the Table button for the figures.`}
      onClick={props.onLineClick ? (p) => p.seriesId && props.onLineClick!(p.seriesId) : undefined}
    />
  );
}

// Horizontal bars of the top items of a dimension, with a table toggle.
export function BarChartPanel(props: {
  id: string;
  title: string;
  subtitle?: ReactNode;
  query: QueryResult<Top>;
  label: (i: TopItem) => string;
  metrics: BarMetric<TopItem>[];
  unit: Unit;
  limit?: number;
  onItemClick?: (i: TopItem) => void;
  isEmpty?: (t: Top) => boolean;
  empty?: ReactNode;
  wide?: boolean;
}) {
  const [asTable, setAsTable] = useState(false);
  const testid = `chart-${props.id}`;
  const limit = props.limit ?? 10;
  return (
    <Panel
      testid={testid}
      title={props.title}
      subtitle={props.subtitle}
      height={HEIGHT}
      query={props.query}
      wide={props.wide}
      isEmpty={props.isEmpty ?? ((t) => t.items.length === 0 || t.items.every((i) => props.metrics.every((m) => !m.get(i))))}
      empty={props.empty ?? <NoTraffic brief />}
      actions={<ToggleTable on={asTable} set={setAsTable} />}
    >
      {(top) => {
        const items = top.items.slice(0, limit);
        if (asTable) {
          const columns: Column<TopItem>[] = [
            { id: 'name', header: props.title.replace(/^Top \d+ /, ''), value: props.label },
            ...props.metrics.map((m) => ({ id: m.id, header: m.name, value: m.get, format: props.unit.format, numeric: true })),
          ];
          return <DataTable testid={`${testid}-table`} name={testid} columns={columns} rows={items} rowKey={(i) => i.key} caption={props.title} dimension={top.dimension} />;
        }
        return (
          <EChart
            option={barOption(items, props.label, props.metrics, { unit: props.unit.name, exact: props.unit.exact, axis: props.unit.format })}
            height={HEIGHT}
            label={`${props.title}: ${items.length} bars. Use the Table button for the figures.`}
            onClick={props.onItemClick ? (p) => props.onItemClick!(items[items.length - 1 - p.dataIndex]) : undefined}
          />
        );
      }}
    </Panel>
  );
}
