import { useEffect, useRef, useState } from 'react';
import { BACK_RANGES, PRESETS, rangeLabel } from '../lib/ranges';
import { formatTime, fromDatetimeLocal, toDatetimeLocal, zoneName } from '../lib/format';
import { useView } from '../view';

// The date range picker: presets ("last N" = N units ending now), back ranges,
// and Custom with a calendar for start and end, applied with Apply.
export function RangePicker() {
  const { state, resolved, update } = useView();
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState('');
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    setFrom(toDatetimeLocal(resolved.from, state.tz));
    setTo(toDatetimeLocal(resolved.to, state.tz));
    setError('');
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    const onClick = (e: MouseEvent) => box.current && !box.current.contains(e.target as Node) && setOpen(false);
    document.addEventListener('keydown', onKey);
    document.addEventListener('mousedown', onClick);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('mousedown', onClick);
    };
    // Only on opening: the custom inputs start from the range in force.
  }, [open]);

  function pick(id: string) {
    update({ range: { preset: id } });
    setOpen(false);
  }

  function apply() {
    const f = fromDatetimeLocal(from, state.tz);
    const t = fromDatetimeLocal(to, state.tz);
    if (!f || !t) return setError('Enter both a start and an end.');
    if (Date.parse(f) >= Date.parse(t)) return setError('The start must be before the end.');
    update({ range: { from: f, to: t } });
    setOpen(false);
  }

  const custom = !('preset' in state.range);
  // The chosen preset is marked for screen readers too, not only by colour.
  const chosen = (id: string) => 'preset' in state.range && state.range.preset === id;
  return (
    <div className="range" ref={box}>
      <button type="button" className="btn range-button" data-testid="range-button" aria-haspopup="dialog" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span className="range-name">{rangeLabel(state.range)}</span>
        <span className="range-dates">
          {formatTime(resolved.from, state.tz)} – {formatTime(resolved.to, state.tz)} {zoneName(state.tz)}
        </span>
      </button>
      {open && (
        <div className="range-pop" role="dialog" aria-label="Date range">
          <div className="range-col">
            <h3>Ranges</h3>
            <p className="muted small">Each ends now.</p>
            {PRESETS.map((p) => (
              <button key={p.id} type="button" className={'preset' + (chosen(p.id) ? ' on' : '')} aria-pressed={chosen(p.id)} data-testid={`preset-${p.id}`} onClick={() => pick(p.id)}>
                {p.label}
              </button>
            ))}
          </div>
          <div className="range-col">
            <h3>Back</h3>
            <p className="muted small">Live windows.</p>
            {BACK_RANGES.map((p) => (
              <button key={p.id} type="button" className={'preset' + (chosen(p.id) ? ' on' : '')} aria-pressed={chosen(p.id)} data-testid={`preset-${p.id}`} onClick={() => pick(p.id)}>
                {p.label}
              </button>
            ))}
          </div>
          <div className="range-col range-custom">
            <h3>Custom{custom ? ' (in force)' : ''}</h3>
            <label>
              Start ({zoneName(state.tz)})
              <input type="datetime-local" data-testid="custom-from" value={from} onChange={(e) => setFrom(e.target.value)} />
            </label>
            <label>
              End ({zoneName(state.tz)})
              <input type="datetime-local" data-testid="custom-to" value={to} onChange={(e) => setTo(e.target.value)} />
            </label>
            {error && (
              <p className="form-error" role="alert">
                {error}
              </p>
            )}
            <button type="button" className="btn btn-primary" data-testid="range-apply" onClick={apply}>
              Apply
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
