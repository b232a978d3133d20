import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { TAIL_URL, type LogRecord } from '../../api/logs';
import { appendCapped, CATEGORIES } from '../../lib/logs';
import { zoneName } from '../../lib/format';
import { Page, type PanelState } from '../../page';
import { useView } from '../../view';
import { LogLine, NoLogs } from './parts';

// The Live Log Viewer: new records as the server stores them (server-sent
// events), newest at the bottom, at most CAP lines kept in the page.
export const CAP = 2000;

type Conn = 'connecting' | 'live' | 'reconnecting' | 'closed';

export default function Live() {
  const { state } = useView();
  const [category, setCategory] = useState('');
  const [paused, setPaused] = useState(false);
  const [lines, setLines] = useState<LogRecord[]>([]);
  const [held, setHeld] = useState<LogRecord[]>([]);
  const [evicted, setEvicted] = useState(0);
  const [dropped, setDropped] = useState(0);
  const [conn, setConn] = useState<Conn>('connecting');
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    setConn('connecting');
    const es = new EventSource(category ? `${TAIL_URL}?category=${encodeURIComponent(category)}` : TAIL_URL, { withCredentials: true });
    es.onopen = () => setConn('live');
    es.onerror = () => setConn(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    es.addEventListener('logs', (e) => {
      let recs: LogRecord[];
      try {
        recs = JSON.parse((e as MessageEvent<string>).data) ?? [];
      } catch {
        return;
      }
      if (!Array.isArray(recs) || recs.length === 0) return;
      if (pausedRef.current) {
        setHeld((h) => appendCapped(h, recs, CAP).lines);
        return;
      }
      setLines((l) => {
        const r = appendCapped(l, recs, CAP);
        if (r.evicted) setEvicted((n) => n + r.evicted);
        return r.lines;
      });
    });
    es.addEventListener('dropped', (e) => {
      const n = Number((e as MessageEvent<string>).data);
      if (n > 0) setDropped((d) => d + n);
    });
    return () => es.close();
  }, [category]);

  // Keep the newest line in sight unless the reader scrolled up.
  useLayoutEffect(() => {
    const b = box.current;
    if (b && stick.current) b.scrollTop = b.scrollHeight;
  }, [lines]);

  const resume = () => {
    setLines((l) => {
      const r = appendCapped(l, held, CAP);
      if (r.evicted) setEvicted((n) => n + r.evicted);
      return r.lines;
    });
    setHeld([]);
    setPaused(false);
    stick.current = true;
  };

  const pageState: PanelState = conn === 'closed' ? 'error' : conn === 'connecting' ? 'loading' : 'ready';
  return (
    <Page persona="loganalyzer" page="live" title="Live log viewer" intro="Gateway log records as they arrive, newest at the bottom." fixed={pageState}>
      <div className="toolbar">
        <span className={`live-dot live-${conn}`} data-testid="live-status" data-status={conn} role="status">
          {conn === 'live' ? 'Live' : conn === 'connecting' ? 'Connecting…' : conn === 'reconnecting' ? 'Reconnecting…' : 'Disconnected'}
        </span>
        <button type="button" className="btn btn-small" data-testid="live-pause" aria-pressed={paused} onClick={() => (paused ? resume() : setPaused(true))}>
          {paused ? `▶ Resume${held.length ? ` (${held.length} new)` : ''}` : '❚❚ Pause'}
        </button>
        <label className="filter">
          <span>Category</span>
          <select data-testid="live-category" value={category} onChange={(e) => { setCategory(e.target.value); setLines([]); setHeld([]); setEvicted(0); }}>
            <option value="">All</option>
            {CATEGORIES.filter((c) => c.id).map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn btn-small" data-testid="live-clear" onClick={() => { setLines([]); setEvicted(0); setDropped(0); }}>
          Clear
        </button>
        <span className="muted small" data-testid="live-count" data-value={lines.length}>
          {lines.length.toLocaleString('en-US')} lines (the newest {CAP.toLocaleString('en-US')} are kept) · times in {zoneName(state.tz)}
        </span>
      </div>
      {(dropped > 0 || evicted > 0) && (
        <p className="note" data-testid="live-dropped" data-dropped={dropped} data-evicted={evicted} role="status">
          {dropped > 0 && `${dropped.toLocaleString('en-US')} lines were dropped by the server because this page fell behind. `}
          {evicted > 0 && `${evicted.toLocaleString('en-US')} older lines were removed from the page to keep it at ${CAP.toLocaleString('en-US')}.`}
        </p>
      )}
      {conn === 'closed' && (
        <div className="state state-error" role="alert">
          <p>
            <strong>The live stream closed.</strong> The server refused or ended it; reload the page to try again.
          </p>
        </div>
      )}
      <section className="panel panel-wide" data-testid="panel-live" aria-label="Live log lines">
        {lines.length === 0 ? (
          <div className="live-wait" data-testid="live-empty">
            <p className="muted">{paused ? 'Paused.' : 'Waiting for new log records…'} Lines appear here as gateways send them.</p>
            <NoLogs title="No new log records yet." />
          </div>
        ) : (
          <div
            className="log-lines live-lines"
            ref={box}
            role="log"
            aria-live="off"
            data-testid="live-lines"
            onScroll={(e) => {
              const b = e.currentTarget;
              stick.current = b.scrollHeight - b.scrollTop - b.clientHeight < 40;
            }}
          >
            {lines.map((r) => (
              <LogLine key={r.id} r={r} tz={state.tz} showSource />
            ))}
          </div>
        )}
      </section>
    </Page>
  );
}
