import { GRANULARITIES } from '../lib/granularity';
import { DEFAULT_REFRESH, REFRESH_CHOICES } from '../lib/urlstate';
import { useView } from '../view';

const refreshLabel = (r: number | 'off') => (r === 'off' ? 'off' : r < 60 ? `${r} s` : `${r / 60} min`);

// Granularity, Local/UTC and auto-refresh, next to the range picker.
// The log analyzer has no granularity choice: its timelines pick their step.
export function TimeControls({ granularity: showGranularity = true }: { granularity?: boolean }) {
  const { state, granularity, update, refreshNow } = useView();
  const paused = state.refresh === 'off';
  return (
    <div className="time-controls">
      {showGranularity && (<label className="filter">
        <span>Granularity</span>
        <select data-testid="granularity" value={state.gran} onChange={(e) => update({ gran: e.target.value as typeof state.gran })}>
          <option value="auto">auto ({granularity})</option>
          {GRANULARITIES.map((g) => (
            <option key={g} value={g}>
              {g}
            </option>
          ))}
        </select>
      </label>)}
      <span className="segmented" role="radiogroup" aria-label="Time zone">
        {(['local', 'utc'] as const).map((z) => (
          <button key={z} type="button" role="radio" aria-checked={state.tz === z} className={state.tz === z ? 'on' : ''} data-testid={`tz-${z}`} onClick={() => update({ tz: z })}>
            {z === 'local' ? 'Local' : 'UTC'}
          </button>
        ))}
      </span>
      <label className="filter">
        <span>Refresh</span>
        <select data-testid="refresh" value={String(state.refresh)} onChange={(e) => update({ refresh: e.target.value === 'off' ? 'off' : Number(e.target.value) }, false)}>
          {REFRESH_CHOICES.map((r) => (
            <option key={r} value={String(r)}>
              {refreshLabel(r)}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="btn btn-small" data-testid="refresh-pause" aria-pressed={paused} onClick={() => update({ refresh: paused ? DEFAULT_REFRESH : 'off' }, false)} title={paused ? 'Resume auto-refresh' : 'Pause auto-refresh'}>
        {paused ? '▶ Resume' : '❚❚ Pause'}
      </button>
      <button type="button" className="btn btn-small" data-testid="refresh-now" onClick={refreshNow} title="Refresh now" aria-label="Refresh now">
        ⟳
      </button>
    </div>
  );
}
