import type { Timeseries } from '../../api/traffic';
import { TimeChartPanel, BarChartPanel } from '../../charts/ChartPanels';
import { Kpis } from '../../components/Kpis';
import { NotConfigured } from '../../components/states';
import { STATUS_COLORS, seriesColor } from '../../lib/colors';
import { Page } from '../../page';
import { PersonaView, useTimeseries, useTop } from '../../traffic';
import { useView } from '../../view';
import { COUNT, ERROR_COLS, FIG, Grid, TopTablePanel, label, perSeries, resourceLabel, useFilterClick } from '../common';

// Application Analytics: what an application's developer asks (view=application).
// Pages read "for <application>" once one is chosen in the global filter.
const P = 'application';
const byApi = (s: Timeseries['series'][number]) => s.labels.api ?? s.key;
const faultsPerApi = perSeries((p) => p.faults, byApi);
const requestsPerApi = perSeries((p) => p.requests, byApi);

function useForApp(): string {
  const { state } = useView();
  return state.application ? ` — ${state.application}` : ' — all applications';
}

function Hint() {
  const { state } = useView();
  return state.application ? null : <p className="hint">Choose an application in the filter bar to see its figures alone.</p>;
}

function Faults() {
  const setApi = useFilterClick('api');
  const ts = useTimeseries({ groupBy: 'api', limit: 10, rank: 'faults' });
  const apis = useTop({ dimension: 'api', limit: 200 });
  const faulty = useTop({ dimension: 'api', limit: 10, rank: 'faults' });
  const faultsByApi = faulty.data ? { ...faulty, data: { ...faulty.data, items: faulty.data.items.filter((i) => i.faults > 0) } } : faulty;
  return (
    <Page persona={P} page="faults" title={`Faults per API${useForApp()}`} intro={<Hint />}>
      <Kpis names={['requests', 'faults', 'throttled', 'errors4xx', 'errors5xx']} />
      <Grid>
        <BarChartPanel id="app-faults-api" title="Top 10 APIs by faults" query={faultsByApi} label={(i) => label(i, 'api')} metrics={[{ id: 'faults', name: 'Faults', color: STATUS_COLORS.faults, get: (i) => i.faults }]} unit={COUNT} onItemClick={(i) => setApi(i.labels.api)} empty={<p className="muted">No faults in this range.</p>} />
        <TimeChartPanel id="app-faults-time" title="Top 10 APIs by faults over time" query={ts} lines={faultsPerApi} unit={COUNT} onLineClick={setApi} empty={<p className="muted">No faults in this range.</p>} />
      </Grid>
      <TopTablePanel id="app-faults-api" title="Faults per API" query={apis} dimension="api" columns={ERROR_COLS} sortBy="faults" onRowClick={(r) => setApi(r.labels.api)} />
    </Page>
  );
}

function Users() {
  const users = useTop({ dimension: 'user', limit: 200 });
  return (
    <Page persona={P} page="users" title={`Top users${useForApp()}`} intro={<Hint />}>
      <Kpis names={['requests', 'successful', 'faults', 'throttled']} />
      <Grid>
        <BarChartPanel id="app-users" title="Top 10 users by requests" query={users} label={(i) => label(i, 'user')} metrics={[{ id: 'requests', name: 'Requests', color: (i) => seriesColor(i.key), get: (i) => i.requests }]} unit={COUNT} wide />
      </Grid>
      <TopTablePanel id="app-users" title="Users" query={users} dimension="user" columns={[FIG.requests, FIG.successful, FIG.errors4xx, FIG.errors5xx, FIG.faults, FIG.throttled]} />
    </Page>
  );
}

function Resources() {
  const setApi = useFilterClick('api');
  const res = useTop({ dimension: 'resource', limit: 200 });
  return (
    <Page persona={P} page="resources" title={`Resource usage${useForApp()}`} intro={<Hint />}>
      <Kpis names={['requests', 'successful', 'latency-p95']} />
      <Grid>
        <BarChartPanel id="app-resources" title="Top 10 resources and methods" query={res} label={resourceLabel} metrics={[{ id: 'requests', name: 'Requests', color: (i) => seriesColor(i.labels.api ?? i.key), get: (i) => i.requests }]} unit={COUNT} onItemClick={(i) => setApi(i.labels.api)} wide />
      </Grid>
      <TopTablePanel id="app-resources" title="Requests per resource and method" query={res} dimension="resource" />
    </Page>
  );
}

function ApiUsage() {
  const setApi = useFilterClick('api');
  const ts = useTimeseries({ groupBy: 'api', limit: 10 });
  const apis = useTop({ dimension: 'api', limit: 200 });
  return (
    <Page persona={P} page="api-usage" title={`API usage${useForApp()}`} intro={<Hint />}>
      <Kpis names={['requests', 'successful', 'faults', 'throttled', 'latency-p95']} />
      <Grid>
        <TimeChartPanel id="app-api-usage" title="Requests over time per API (busiest 10)" subtitle="Click a line to filter by that API" query={ts} lines={requestsPerApi} unit={COUNT} onLineClick={setApi} wide />
      </Grid>
      <TopTablePanel id="app-api-usage" title="Requests per API" query={apis} dimension="api" onRowClick={(r) => setApi(r.labels.api)} />
    </Page>
  );
}

function RegisteredUsers() {
  return (
    <Page persona={P} page="registered-users" title="Registered users" fixed="ready">
      <NotConfigured what="registered users of applications" />
    </Page>
  );
}

export default function ApplicationPages({ page }: { page: string }) {
  return (
    <PersonaView.Provider value="application">
      {page === 'faults' && <Faults />}
      {page === 'users' && <Users />}
      {page === 'resources' && <Resources />}
      {page === 'api-usage' && <ApiUsage />}
      {page === 'registered-users' && <RegisteredUsers />}
    </PersonaView.Provider>
  );
}
