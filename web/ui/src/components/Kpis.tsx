import type { Figures, Point } from '../api/traffic';
import { usePanelState, type PanelState } from '../page';
import { useSummary, useTimeseries, type ScopeExtra } from '../traffic';
import { changeRatio, formatChange, formatCount, formatLatency } from '../lib/format';
import { ErrorState, NoTraffic } from './states';

export type KpiName = 'requests' | 'successful' | 'faults' | 'throttled' | 'errors4xx' | 'errors5xx' | 'latency-p50' | 'latency-p95' | 'latency-p99';

interface KpiDef {
  label: string;
  unit: string;
  get: (f: Figures) => number | undefined;
  format: (v: number) => string;
  // Whether a rise is good news: it decides the colour of the change.
  upIsGood: boolean;
}

const DEFS: Record<KpiName, KpiDef> = {
  requests: { label: 'Requests', unit: 'requests', get: (f) => f.requests, format: formatCount, upIsGood: true },
  successful: { label: 'Successful', unit: 'responses < 400', get: (f) => f.successful, format: formatCount, upIsGood: true },
  faults: { label: 'Faults', unit: 'fault events', get: (f) => f.faults, format: formatCount, upIsGood: false },
  throttled: { label: 'Throttled', unit: 'requests', get: (f) => f.throttled, format: formatCount, upIsGood: false },
  errors4xx: { label: '4xx errors', unit: 'responses', get: (f) => f.errors4xx, format: formatCount, upIsGood: false },
  errors5xx: { label: '5xx errors', unit: 'responses', get: (f) => f.errors5xx, format: formatCount, upIsGood: false },
  'latency-p50': { label: 'Latency p50', unit: 'median', get: (f) => f.latency?.p50, format: formatLatency, upIsGood: false },
  'latency-p95': { label: 'Latency p95', unit: '95th percentile', get: (f) => f.latency?.p95, format: formatLatency, upIsGood: false },
  'latency-p99': { label: 'Latency p99', unit: '99th percentile', get: (f) => f.latency?.p99, format: formatLatency, upIsGood: false },
};

function Sparkline({ points, get }: { points: Point[]; get: (f: Figures) => number | undefined }) {
  const vals = points.map((p) => get(p) ?? 0);
  if (vals.length < 2) return <svg className="spark" aria-hidden="true" />;
  const max = Math.max(...vals) || 1;
  const w = 100;
  const h = 28;
  const d = vals.map((v, i) => `${((i / (vals.length - 1)) * w).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(' ');
  return (
    <svg className="spark" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" aria-hidden="true">
      <polyline points={d} fill="none" stroke="currentColor" strokeWidth="1.5" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}

// The row of KPI tiles that opens a page: value, unit, change against the
// previous period of the same length, and a sparkline.
export function Kpis({ names, extra }: { names: KpiName[]; extra?: ScopeExtra }) {
  const cur = useSummary(extra);
  const prev = useSummary(extra, true);
  const spark = useTimeseries({}, extra);

  let state: PanelState = 'ready';
  if (cur.status === 'error') state = 'error';
  else if (cur.status === 'loading' || prev.status === 'loading' || spark.status === 'loading') state = 'loading';
  else if (cur.data!.requests === 0) state = 'empty';
  usePanelState(state);

  if (state === 'error') return <ErrorState error={cur.error} onRetry={cur.retry} />;
  if (state === 'loading') {
    return (
      <div className="kpis" aria-hidden="true">
        {names.map((n) => (
          <div key={n} className="kpi skeleton" />
        ))}
      </div>
    );
  }
  const points = spark.data?.series[0]?.points ?? [];
  return (
    <>
      <div className="kpis">
        {names.map((n) => {
          const d = DEFS[n];
          const v = d.get(cur.data!);
          const p = prev.data ? d.get(prev.data) : undefined;
          const ratio = v === undefined || p === undefined ? null : changeRatio(v, p);
          const good = ratio === null || ratio === 0 ? '' : ratio > 0 === d.upIsGood ? 'good' : 'bad';
          return (
            <div key={n} className="kpi" data-testid={`kpi-${n}`} data-value={v ?? ''}>
              <div className="kpi-label">{d.label}</div>
              <div className="kpi-value" title={v === undefined ? undefined : String(v)}>
                {v === undefined ? '–' : d.format(v)}
              </div>
              <div className="kpi-unit">{d.unit}</div>
              <div className={`kpi-change ${good}`} title="Change against the previous period of the same length">
                {formatChange(ratio)}
                {ratio !== null && <span className="muted"> vs previous period</span>}
              </div>
              <Sparkline points={points} get={d.get} />
            </div>
          );
        })}
      </div>
      {state === 'empty' && <NoTraffic />}
    </>
  );
}
