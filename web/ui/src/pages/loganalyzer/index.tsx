import { useMemo, type ReactNode } from 'react';
import type { LogCount, LogCounts, RecordPage } from '../../api/logs';
import { DataTable, type Column } from '../../components/DataTable';
import { Panel } from '../../components/Panel';
import { seriesColor } from '../../lib/colors';
import { formatCount } from '../../lib/format';
import { CATEGORIES, categoryDef, messageOf } from '../../lib/logs';
import { encodeState } from '../../lib/urlstate';
import { Page, type PanelState } from '../../page';
import type { QueryResult } from '../../query';
import { navigate } from '../../router';
import { useView } from '../../view';
import { Grid } from '../common';
import { useCounts, useRecords, useTimeline } from './data';
import { BarsPanel, LogViewer, NoLogs, RecordsPanel, Tiles, TimelinePanel, sparkOf, type Bar, type Tile } from './parts';
import TokenErrors from './TokenErrors';
import Live from './Live';

const P = 'loganalyzer';

const sum = (cs: LogCount[], f: (c: LogCount) => boolean) => cs.reduce((a, c) => a + (f(c) ? c.count : 0), 0);

// Where a category's records are looked at.
const PAGE_OF: Record<string, string> = {
  access_token: 'token-errors',
  app_error: 'app-errors',
  login: 'login-errors',
  api_failure: 'api-failures',
  api_deployed: 'deployments',
  api_deleted: 'deployments',
};

function tileState(cur: QueryResult<LogCounts>, prev: QueryResult<LogCounts>, total: (c: LogCounts) => number): PanelState {
  if (cur.status === 'error') return 'error';
  if (cur.status === 'loading' || prev.status === 'loading') return 'loading';
  return total(cur.data!) === 0 ? 'empty' : 'ready';
}

// Tiles of one or more categories' counts with the change against the previous period.
function CategoryTiles(props: { defs: { name: string; label: string; unit: string; match: (c: LogCount) => boolean; category: string | null; upIsBad?: boolean; distinct?: (c: LogCount) => string; noSpark?: boolean }[]; what: string; emptyHelp?: boolean }) {
  const cur = useCounts();
  const prev = useCounts(true);
  const tl = useTimeline();
  const all = (c: LogCounts) => sum(c.counts, (x) => props.defs.some((d) => !d.distinct && d.match(x)));
  const state = tileState(cur, prev, all);
  const tiles: Tile[] = props.defs.map((d) => {
    const figure = (c: LogCounts | undefined) => {
      if (!c) return undefined;
      if (d.distinct) return new Set(c.counts.filter(d.match).map(d.distinct)).size;
      return sum(c.counts, d.match);
    };
    return { name: d.name, label: d.label, unit: d.unit, value: figure(cur.data), previous: figure(prev.data), upIsBad: d.upIsBad, spark: d.distinct || d.noSpark ? undefined : sparkOf(tl.data, d.category) };
  });
  return (
    <>
      <Tiles tiles={tiles} state={state} error={cur.error} retry={cur.retry} />
      {state === 'empty' && <NoLogs what={props.what} />}
    </>
  );
}

const inCat = (...cats: string[]) => (c: LogCount) => cats.includes(c.category);
// Records no rule matched, and raw lines no layout matched (never classified).
const unclassified = (c: LogCount) => c.category === '' && c.parsed;
const unparsed = (c: LogCount) => !c.parsed;
const countLabel = (c: LogCount) => (c.parsed ? categoryDef(c.category).label : 'Unparsed lines');

function Overview() {
  const { state } = useView();
  const counts = useCounts();
  const tl = useTimeline();
  const open = (c: LogCount) => {
    const page = PAGE_OF[c.category];
    if (!page) return;
    const s = { ...state, record: undefined, order: undefined, compare: undefined, status: c.category.startsWith('api_d') ? undefined : c.status, category: c.category.startsWith('api_d') ? c.category : undefined };
    navigate(`/${P}/${page}?${encodeState(s)}`);
  };
  const columns: Column<LogCount>[] = [
    { id: 'category', header: 'Category', value: countLabel },
    { id: 'status', header: 'Status', value: (c) => c.status },
    { id: 'code', header: 'Code', value: (c) => c.code },
    { id: 'api', header: 'API', value: (c) => c.api },
    { id: 'count', header: 'Records', value: (c) => c.count, format: formatCount, numeric: true },
  ];
  return (
    <Page persona={P} page="overview" title="Log analyzer overview" intro="Gateway log records as they were classified on arrival. Click a row to open its page.">
      <CategoryTiles
        what="log records"
        defs={[
          { name: 'records', label: 'Log records', unit: 'all categories', match: () => true, category: null },
          { name: 'access-token-errors', label: 'Access-token errors', unit: 'authentication failures', match: inCat('access_token'), category: 'access_token', upIsBad: true },
          { name: 'app-errors', label: 'Application errors', unit: 'ERROR records', match: inCat('app_error'), category: 'app_error', upIsBad: true },
          { name: 'login-failures', label: 'Login failures', unit: 'failed logins', match: inCat('login'), category: 'login', upIsBad: true },
          { name: 'api-failures', label: 'API failures', unit: 'message-processing', match: inCat('api_failure'), category: 'api_failure', upIsBad: true },
          // The timeline does not tell parsed from raw records: no sparklines here.
          { name: 'unclassified', label: 'Unclassified', unit: 'parsed, no rule matched', match: unclassified, category: '', noSpark: true },
          { name: 'unparsed', label: 'Unparsed lines', unit: 'no layout matched', match: unparsed, category: '', upIsBad: true, noSpark: true },
        ]}
      />
      <TimelinePanel id="log-timeline" title="Log records per category over time" query={tl} categories={CATEGORIES.map((c) => c.id)} wide />
      <Panel testid="panel-log-counts" title="Records by category and status" height={200} wide query={counts} isEmpty={(c) => c.counts.length === 0} empty={<NoLogs brief />}>
        {(c) => <DataTable testid="table-log-counts" name="log-counts" columns={columns} rows={c.counts} rowKey={(x) => `${x.category}|${x.status}|${x.code}|${x.api}|${x.parsed ? '' : 'raw'}`} initialSort={[{ id: 'count', desc: true }]} onRowClick={open} caption="Records by category and status" pageSize={25} />}
      </Panel>
    </Page>
  );
}

// Bars of a category's counts by status, the selected status (URL status=) highlighted.
function statusBars(category: string | string[], color: (status: string) => string) {
  const cats = Array.isArray(category) ? category : [category];
  return (d: LogCounts): Bar[] => {
    const by = new Map<string, Bar>();
    for (const c of d.counts) {
      if (!cats.includes(c.category)) continue;
      const b = by.get(c.status) ?? { key: c.status, label: c.code ? `${c.status} (${c.code})` : c.status || '(none)', count: 0, color: color(c.status) };
      b.count += c.count;
      by.set(c.status, b);
    }
    return [...by.values()].sort((a, b) => b.count - a.count);
  };
}

// The page-local filters of a records table: a status (status=) and an API (logapi=).
function StatusFilter({ label }: { label?: string }) {
  const { state, update } = useView();
  const status = label ? state.status : undefined;
  if (!status && !state.logapi) return null;
  return (
    <div className="toolbar">
      {status && (
        <span className="chip" data-testid="status-filter">
          {label}: <strong>{status}</strong>
          <button type="button" className="linkish" data-testid="clear-status" onClick={() => update({ status: undefined, record: undefined })} aria-label="Show all statuses">
            ✕
          </button>
        </span>
      )}
      {state.logapi && (
        <span className="chip" data-testid="api-filter">
          API: <strong>{state.logapi}</strong>
          <button type="button" className="linkish" data-testid="clear-api" onClick={() => update({ logapi: undefined, record: undefined })} aria-label="Show all APIs">
            ✕
          </button>
        </span>
      )}
    </div>
  );
}

// Bars of a category's counts per API (the gateway's API name); '' is a record
// that named none.
function apiBars(categories: string[], color: (api: string) => string, second?: string) {
  return (d: LogCounts): Bar[] => {
    const by = new Map<string, Bar>();
    for (const c of d.counts) {
      if (!categories.includes(c.category) && c.category !== second) continue;
      const b = by.get(c.api) ?? { key: c.api, label: c.api || '(unknown API)', count: 0, second: second ? 0 : undefined, color: color(c.api) };
      if (c.category === second) b.second! += c.count;
      else b.count += c.count;
      by.set(c.api, b);
    }
    return [...by.values()].sort((a, b) => b.count + (b.second ?? 0) - (a.count + (a.second ?? 0)));
  };
}

function Viewer() {
  const { state } = useView();
  return state.record ? <LogViewer id={state.record} /> : null;
}

// The most frequent messages among a sample of records (the server groups by
// class, not by message).
const SAMPLE = 1000;
function messageBars(color: string) {
  return (p: RecordPage): Bar[] => {
    const by = new Map<string, number>();
    for (const r of p.records) {
      const m = messageOf(r.content);
      by.set(m, (by.get(m) ?? 0) + 1);
    }
    return [...by.entries()].sort((a, b) => b[1] - a[1]).map(([m, n]) => ({ key: m, label: m.length > 90 ? m.slice(0, 89) + '…' : m, count: n, color }));
  };
}

function AppErrors() {
  const { state, update } = useView();
  const counts = useCounts();
  const tl = useTimeline();
  const sample = useRecords({ category: 'app_error', order: 'desc', limit: SAMPLE, cursor: '' });
  const classBars = useMemo(() => statusBars('app_error', (s) => seriesColor(s)), []);
  const msgBars = useMemo(() => messageBars(categoryDef('app_error').color), []);
  const total = counts.data ? sum(counts.data.counts, (c) => c.category === 'app_error' && (!state.status || c.status === state.status)) : undefined;
  return (
    <Page persona={P} page="app-errors" title="Application errors" intro="ERROR and FATAL records no other rule claimed, grouped by the class that logged them.">
      <CategoryTiles
        what="application errors"
        defs={[
          { name: 'app-errors', label: 'Application errors', unit: 'ERROR records', match: inCat('app_error'), category: 'app_error', upIsBad: true },
          { name: 'app-error-classes', label: 'Classes', unit: 'logging errors', match: inCat('app_error'), category: 'app_error', distinct: (c) => c.status },
        ]}
      />
      <StatusFilter label="Class" />
      <Grid>
        <BarsPanel id="app-error-classes" title="Errors by class" subtitle="Click a bar to list that class's records" query={counts} bars={classBars} labelHeader="Class" onClick={(b) => update({ status: b.key, record: undefined })} selected={state.status} empty={<NoLogs brief what="application errors" />} />
        <BarsPanel id="app-error-messages" title="Errors by message" subtitle={`Among the latest ${SAMPLE.toLocaleString('en-US')} errors of the range`} query={sample} bars={msgBars} labelHeader="Message" labelWidth={260} empty={<NoLogs brief what="application errors" />} />
        <TimelinePanel id="app-error-timeline" title="Application errors over time" query={tl} categories={['app_error']} wide empty={<NoLogs brief what="application errors" />} />
      </Grid>
      <RecordsPanel id="app-error-records" title={state.status ? `Records of ${state.status}` : 'Application error records'} category="app_error" status={state.status} total={total} showLevel showStatus empty={<NoLogs brief what="application errors" />} />
      <Viewer />
    </Page>
  );
}

function Deployments() {
  const { state, update } = useView();
  const counts = useCounts();
  const tl = useTimeline();
  const category = state.category === 'api_deleted' ? 'api_deleted' : 'api_deployed';
  const perApi = useMemo(() => apiBars(['api_deployed'], () => categoryDef('api_deployed').color, 'api_deleted'), []);
  const api = state.logapi;
  const total = counts.data ? sum(counts.data.counts, (c) => c.category === category && (!api || c.api === api)) : undefined;
  return (
    <Page persona={P} page="deployments" title="API deployment stats" intro={'APIs deployed ("Initializing API") and deleted ("Destroying API") on the gateways.'}>
      <CategoryTiles
        what="API deployments"
        defs={[
          { name: 'deployed', label: 'Deployed', unit: 'API deployments', match: inCat('api_deployed'), category: 'api_deployed' },
          { name: 'deleted', label: 'Deleted', unit: 'API removals', match: inCat('api_deleted'), category: 'api_deleted' },
          { name: 'deployment-apis', label: 'APIs', unit: 'deployed or deleted', match: inCat('api_deployed', 'api_deleted'), category: null, distinct: (c) => c.api },
        ]}
      />
      <Grid>
        <BarsPanel id="deployments-api" title="Deployed and deleted per API" subtitle="Click an API to list its records" query={counts} bars={perApi} names={['Deployed', 'Deleted']} secondColor={categoryDef('api_deleted').color} labelHeader="API" onClick={(b) => update({ logapi: b.key || undefined, record: undefined })} selected={api} empty={<NoLogs brief what="API deployments" />} />
        <TimelinePanel id="deployments-timeline" title="Deployments over time" query={tl} categories={['api_deployed', 'api_deleted']} empty={<NoLogs brief what="API deployments" />} />
      </Grid>
      <StatusFilter />
      <div className="toolbar">
        <span className="segmented" role="radiogroup" aria-label="Records of">
          <span className="muted">Records of</span>
          {(['api_deployed', 'api_deleted'] as const).map((c) => (
            <button key={c} type="button" role="radio" aria-checked={category === c} className={category === c ? 'on' : ''} data-testid={`records-${c}`} onClick={() => update({ category: c, record: undefined }, false)}>
              {c === 'api_deployed' ? 'Deployed' : 'Deleted'}
            </button>
          ))}
        </span>
      </div>
      <RecordsPanel id="deployment-records" title={`${category === 'api_deployed' ? 'Deployment records' : 'Deletion records'}${api ? ` of ${api}` : ''}`} category={category} api={api} total={total} showStatus={false} showApi empty={<NoLogs brief what={api ? `${category === 'api_deployed' ? 'deployments' : 'deletions'} of ${api}` : 'API deployments'} />} />
      <Viewer />
    </Page>
  );
}

function SimpleCategory(props: { page: string; title: string; intro: ReactNode; category: string; what: string; tile: { name: string; label: string; unit: string }; statusLabel: string; byApi?: boolean }) {
  const { state, update } = useView();
  const counts = useCounts();
  const tl = useTimeline();
  const bars = useMemo(() => statusBars(props.category, () => categoryDef(props.category).color), [props.category]);
  const perApi = useMemo(() => apiBars([props.category], (a) => seriesColor(a || '(unknown API)')), [props.category]);
  const api = props.byApi ? state.logapi : undefined;
  const total = counts.data ? sum(counts.data.counts, (c) => c.category === props.category && (!state.status || c.status === state.status) && (!api || c.api === api)) : undefined;
  const none = <NoLogs brief what={props.what} />;
  return (
    <Page persona={P} page={props.page} title={props.title} intro={props.intro}>
      <CategoryTiles
        what={props.what}
        defs={[
          { ...props.tile, match: inCat(props.category), category: props.category, upIsBad: true },
          props.byApi
            ? { name: `${props.page}-apis`, label: 'APIs affected', unit: 'with failures', match: inCat(props.category), category: null, distinct: (c: LogCount) => c.api }
            : { name: `${props.page}-statuses`, label: 'Kinds', unit: 'distinct statuses', match: inCat(props.category), category: null, distinct: (c: LogCount) => c.status },
        ]}
      />
      <StatusFilter label={props.statusLabel} />
      <Grid>
        {props.byApi && <BarsPanel id={`${props.page}-api`} title="Failures per API" subtitle="Click an API to list its records" query={counts} bars={perApi} labelHeader="API" onClick={(b) => update({ logapi: b.key || undefined, record: undefined })} selected={api} empty={none} />}
        <BarsPanel id={`${props.page}-status`} title={`${props.what[0].toUpperCase()}${props.what.slice(1)} by ${props.statusLabel.toLowerCase()}`} subtitle="Click a bar to list its records" query={counts} bars={bars} labelHeader={props.statusLabel} onClick={(b) => update({ status: b.key, record: undefined })} selected={state.status} empty={none} />
        <TimelinePanel id={`${props.page}-timeline`} title={`${props.what[0].toUpperCase()}${props.what.slice(1)} over time`} query={tl} categories={[props.category]} empty={none} wide={!!props.byApi} />
      </Grid>
      <RecordsPanel id={`${props.page}-records`} title={[state.status ? `Records: ${state.status}` : 'Records', api ? `in ${api}` : ''].filter(Boolean).join(' ')} category={props.category} status={state.status} api={api} total={total} showApi={props.byApi} showLevel empty={none} />
      <Viewer />
    </Page>
  );
}

export default function LogAnalyzer({ page }: { page: string; me: string }) {
  switch (page) {
    case 'overview':
      return <Overview />;
    case 'app-errors':
      return <AppErrors />;
    case 'deployments':
      return <Deployments />;
    case 'login-errors':
      return <SimpleCategory page="login-errors" title="Login errors" intro="Failed logins and illegal access attempts on the portals and the management console." category="login" what="login failures" tile={{ name: 'login-failures', label: 'Login failures', unit: 'failed attempts' }} statusLabel="Status" />;
    case 'api-failures':
      return <SimpleCategory page="api-failures" title="Number of API failures" intro="Message-processing failures on the gateways, with the API they happened in." category="api_failure" what="API failures" tile={{ name: 'api-failures', label: 'API failures', unit: 'message-processing' }} statusLabel="Failure" byApi />;
    case 'token-errors':
      return <TokenErrors />;
    case 'live':
      return <Live />;
    default:
      return null;
  }
}
