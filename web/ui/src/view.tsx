import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { navigate, useLocation } from './router';
import { decodeState, encodeState, type ViewState } from './lib/urlstate';
import { resolveRange, type Resolved } from './lib/ranges';
import { effectiveGranularity, type Granularity } from './lib/granularity';
import { bootNow } from './prefetch';

// The view: the URL's state, the range resolved to instants, and a refresh
// counter. Relative ranges are resolved again on every refresh, so "Last Hour"
// keeps moving with the clock while a custom range stays put.
export interface View {
  state: ViewState;
  resolved: Resolved;
  from: string;
  to: string;
  granularity: Granularity;
  tick: number;
  update: (patch: Partial<ViewState>, push?: boolean) => void;
  refreshNow: () => void;
}

const Ctx = createContext<View | null>(null);

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function ViewProvider({ children }: { children: ReactNode }) {
  const { pathname, search } = useLocation();
  const state = useMemo(() => decodeState(search), [search]);
  const [tick, setTick] = useState(0);
  const stateKey = encodeState(state);

  // Write the full state into the URL once, so the link says what it shows.
  useEffect(() => {
    if (search.replace(/^\?/, '') !== stateKey) navigate(`${pathname}?${stateKey}`, true);
  }, [pathname, search, stateKey]);

  useEffect(() => {
    if (state.refresh === 'off') return;
    const id = setInterval(() => {
      // A hidden tab need not poll; it catches up when shown again.
      if (document.visibilityState === 'visible') setTick((t) => t + 1);
    }, state.refresh * 1000);
    return () => clearInterval(id);
  }, [state.refresh]);

  const rangeKey = JSON.stringify(state.range);
  // The first range is resolved at the boot prefetch's instant (when recent),
  // so the page's calls match the prefetched ones.
  const resolved = useMemo(() => resolveRange(JSON.parse(rangeKey), (tick === 0 && bootNow()) || new Date()), [rangeKey, tick]);

  const update = useCallback(
    (patch: Partial<ViewState>, push = true) => {
      const next = encodeState({ ...decodeState(location.search), ...patch });
      navigate(`${location.pathname}?${next}`, !push);
    },
    [],
  );

  const value = useMemo<View>(
    () => ({
      state,
      resolved,
      from: iso(resolved.from),
      to: iso(resolved.to),
      granularity: effectiveGranularity(state.gran, resolved),
      tick,
      update,
      refreshNow: () => setTick((t) => t + 1),
    }),
    [state, resolved, tick, update],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useView(): View {
  const v = useContext(Ctx);
  if (!v) throw new Error('useView outside ViewProvider');
  return v;
}
