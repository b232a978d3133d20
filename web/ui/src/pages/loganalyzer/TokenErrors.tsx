import { useMemo } from 'react';
import type { TokenErrors as TokenErrorsAnswer } from '../../api/logs';
import type { Column } from '../../components/DataTable';
import { STATUS_COLORS } from '../../lib/colors';
import { formatChange, formatCount } from '../../lib/format';
import { compareStatuses, total, type Delta } from '../../lib/logs';
import type { PanelState } from '../../page';
import { Page } from '../../page';
import { useView } from '../../view';
import { Grid } from '../common';
import { useTokenErrors } from './data';
import { BarsPanel, LogViewer, NoLogs, RecordsPanel, Tiles, exact, type Bar, type Tile } from './parts';

// Access Token Errors (seed 000/001, SPEC §6): the API Token Status bars, the
// API Key Status records of the clicked status, the Log Viewer around a
// record, and the comparison with the period before.

const AMBER = STATUS_COLORS.client;
const PREVIOUS = '#8b93a1';

export const codeKey = (d: { code: string; status: string }) => d.code || d.status.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

function bars(d: TokenErrorsAnswer): Bar[] {
  return compareStatuses(d.statuses, [])
    .filter((s) => s.current > 0)
    .map((s) => ({ key: s.status, label: s.code ? `${s.status} (${s.code})` : s.status, count: s.current, color: AMBER, code: s.code }));
}

function compareBars(d: TokenErrorsAnswer): Bar[] {
  return compareStatuses(d.statuses, d.previous?.statuses ?? []).map((s) => ({ key: s.status, label: s.code ? `${s.status} (${s.code})` : s.status, count: s.current, second: s.previous, color: AMBER }));
}

function TokenTiles() {
  const q = useTokenErrors();
  let state: PanelState = q.status;
  const deltas: Delta[] = q.data ? compareStatuses(q.data.statuses, q.data.previous?.statuses ?? []) : [];
  if (q.data && total(q.data.statuses) === 0) state = 'empty';
  const prevTotal = q.data?.previous ? total(q.data.previous.statuses) : undefined;
  const tiles: Tile[] = [
    { name: 'token-total', label: 'All access-token errors', unit: 'authentication failures', value: q.data ? total(q.data.statuses) : undefined, previous: prevTotal, upIsBad: true },
    ...deltas.slice(0, 12).map((d) => ({ name: `token-${codeKey(d)}`, label: d.status, unit: d.code ? `code ${d.code}` : 'status', value: d.current, previous: d.previous, upIsBad: true, title: `${d.status}${d.code ? ` (${d.code})` : ''}` })),
  ];
  return (
    <>
      <Tiles tiles={tiles} state={state} error={q.error} retry={q.retry} />
      {state === 'empty' && <NoLogs what="access-token errors" />}
    </>
  );
}

export default function TokenErrors() {
  const { state, update } = useView();
  const q = useTokenErrors();
  const compare = state.compare === 'previous';
  const selected = state.status;
  const selectedFig = q.data?.statuses.find((s) => s.status === selected);
  const codeCol: Column<Bar>[] = useMemo(() => [{ id: 'code', header: 'Code', value: (b: Bar) => b.code ?? '' }], []);
  const pick = (b: Bar) => update({ status: b.key, record: undefined });
  const none = <NoLogs brief what="access-token errors" />;
  return (
    <Page persona={P} page="token-errors" title="Access token errors" intro="Gateway authentication failures by status. Click a bar to list its records, then View a record to read the log around it.">
      <TokenTiles />
      <div className="toolbar">
        <button type="button" className="btn btn-small" data-testid="compare-toggle" aria-pressed={compare} onClick={() => update({ compare: compare ? undefined : 'previous' }, false)}>
          {compare ? '✓ ' : ''}Compare with the previous period
        </button>
        {selected && (
          <span className="chip" data-testid="status-filter">
            Status: <strong>{selected}</strong>
            {selectedFig?.code && <span className="muted"> ({selectedFig.code})</span>}
            <button type="button" className="linkish" data-testid="clear-status" onClick={() => update({ status: undefined, record: undefined })} aria-label="Clear the selected status">
              ✕
            </button>
          </span>
        )}
      </div>
      <Grid>
        <BarsPanel
          id="token-status"
          title="API Token Status"
          subtitle="Records per access-token status; hover for the exact count, click to list the records"
          query={q}
          bars={bars}
          labelHeader="Status"
          extraColumns={codeCol}
          onClick={pick}
          selected={selected}
          labelWidth={240}
          height={340}
          wide={!compare}
          empty={none}
          footer={(bs) => (
            <ul className="chips" aria-label="Statuses">
              {bs.map((b) => {
                const code = b.code ?? '';
                return (
                  <li key={b.key}>
                    <button type="button" className={`chip chip-btn${b.key === selected ? ' on' : ''}`} data-testid={`token-status-${codeKey({ code, status: b.key })}`} data-status={b.key} data-code={code} data-count={b.count} aria-pressed={b.key === selected} onClick={() => pick(b)}>
                      {b.key} {code && <span className="muted">{code}</span>} <strong>{exact(b.count)}</strong>
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        />
        {compare && (
          <BarsPanel
            id="token-compare"
            title="Compared with the previous period"
            subtitle={q.data?.previous ? `This period against the ${formatSpan(q.data.from, q.data.to)} before it` : undefined}
            query={q}
            bars={compareBars}
            names={['This period', 'Previous period']}
            secondColor={PREVIOUS}
            labelHeader="Status"
            extraColumns={[{ id: 'change', header: 'Change', value: (b: Bar) => formatChange(b.second ? (b.count - b.second) / b.second : null) }]}
            onClick={pick}
            labelWidth={200}
            height={340}
            empty={<p className="muted">No access-token errors in this period or the one before.</p>}
          />
        )}
      </Grid>
      {selected ? (
        <RecordsPanel id="token-records" title={`API Key Status: ${selected}`} subtitle="Sorted by the server; click the Timestamp header to reverse" category="access_token" status={selected} total={selectedFig?.count} showStatus empty={<p className="muted">No records of this status in the range.</p>} />
      ) : (
        <section className="panel panel-wide" data-testid="panel-token-records" aria-label="API Key Status">
          <header className="panel-head">
            <h2>API Key Status</h2>
          </header>
          <p className="muted" data-testid="token-records-hint">
            Click a bar of API Token Status (or a status under it) to list its records here.
          </p>
        </section>
      )}
      {state.record && <LogViewer id={state.record} />}
    </Page>
  );
}

const P = 'loganalyzer';

function formatSpan(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  const h = ms / 3_600_000;
  if (h < 48) return `${formatCount(Math.round(h * 10) / 10)} hours`;
  return `${formatCount(Math.round((h / 24) * 10) / 10)} days`;
}
