import { createContext, useCallback, useContext, useEffect, useId, useLayoutEffect, useMemo, useState, type ReactNode } from 'react';

// A page's data-state (loading|ready|empty|error) is the sum of its panels':
// any error → error, else any loading → loading, else all empty → empty, else
// ready. The browser suite waits for it, so every data panel reports here.
export type PanelState = 'loading' | 'ready' | 'empty' | 'error';

const Ctx = createContext<(id: string, s: PanelState | null) => void>(() => {});

// Whether the page has left its loading state. Charts wait for it (EChart.tsx):
// drawing one takes a long task, which would hold back the panels still
// loading and the page's ready state. Outside a page there is nothing to wait for.
const Settled = createContext(true);
export function usePageSettled(): boolean {
  return useContext(Settled);
}

export function usePanelState(state: PanelState): void {
  const report = useContext(Ctx);
  const id = useId();
  // Layout effects: the page's state is updated in the same commit as its
  // panels, before the browser paints, so a page whose data is already in
  // (prefetch.ts) shows data-state=ready in its first frame, not a frame later.
  useLayoutEffect(() => {
    report(id, state);
  }, [report, id, state]);
  useLayoutEffect(() => () => report(id, null), [report, id]);
}

function combine(states: PanelState[]): PanelState {
  if (states.length === 0) return 'loading';
  if (states.includes('error')) return 'error';
  if (states.includes('loading')) return 'loading';
  if (states.every((s) => s === 'empty')) return 'empty';
  return 'ready';
}

export function Page(props: { persona: string; page: string; title: string; intro?: ReactNode; fixed?: PanelState; children: ReactNode }) {
  const [panels, setPanels] = useState<Record<string, PanelState>>({});
  const report = useCallback((id: string, s: PanelState | null) => {
    setPanels((p) => {
      if (s === null) {
        if (!(id in p)) return p;
        const next = { ...p };
        delete next[id];
        return next;
      }
      return p[id] === s ? p : { ...p, [id]: s };
    });
  }, []);
  const state = useMemo(() => props.fixed ?? combine(Object.values(panels)), [props.fixed, panels]);

  useEffect(() => {
    document.title = `${props.title} · apilens`;
  }, [props.title]);

  return (
    <Ctx.Provider value={report}>
      <Settled.Provider value={state !== 'loading'}>
        <main className="page" data-testid={`page-${props.persona}-${props.page}`} data-state={state} aria-busy={state === 'loading'}>
          <h1 className="page-title">{props.title}</h1>
          {props.intro && <p className="page-intro">{props.intro}</p>}
          {props.children}
        </main>
      </Settled.Provider>
    </Ctx.Provider>
  );
}
