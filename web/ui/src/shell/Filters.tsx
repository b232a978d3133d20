import type { View } from '../api/traffic';
import { filterQuery, type FilterDim } from '../api/queries';
import { useQuery } from '../query';
import { useView } from '../view';

// The global filters. Their choices are the tenants, APIs and applications
// with traffic in the range, as the server lets this persona see them.
type Dim = FilterDim;
const LABELS: Record<Dim, string> = { tenant: 'Tenant', api: 'API', application: 'Application' };

function Filter({ dim, view }: { dim: Dim; view: View }) {
  const v = useView();
  const fq = filterQuery(view, v.from, v.to, dim);
  // The choices follow the range but need not refetch on every refresh tick.
  const identity = `filter|${dim}|${view}|${JSON.stringify(v.state.range)}`;
  const q = useQuery(fq.key, fq.fetch, identity);
  const current = v.state[dim];
  const options = (q.data?.items ?? []).map((i) => i.labels[dim] ?? i.key).filter((x) => x !== '');
  if (current && !options.includes(current)) options.unshift(current);
  return (
    <label className="filter">
      <span>{LABELS[dim]}</span>
      <select data-testid={`filter-${dim}`} value={current} onChange={(e) => v.update({ [dim]: e.target.value })} aria-busy={q.status === 'loading'}>
        <option value="">All</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Filters({ view }: { view: View }) {
  const { state, update } = useView();
  const any = state.tenant || state.api || state.application;
  return (
    <div className="filters" role="group" aria-label="Filters">
      <Filter dim="tenant" view={view} />
      <Filter dim="api" view={view} />
      <Filter dim="application" view={view} />
      {any && (
        <button type="button" className="btn btn-small" data-testid="filters-clear" onClick={() => update({ tenant: '', api: '', application: '' })}>
          Clear filters
        </button>
      )}
    </div>
  );
}
