import { useCallback, useEffect, useRef, useState } from 'react';
import { forget, peek, shared } from './api/cache';

// Data loading for panels. Answers are shared by key (the request's URL; see
// api/cache.ts), so a chart and the table behind it ask the server once. A
// refresh keeps showing the previous answer until the new one arrives, so
// panels do not blink.
export type Status = 'loading' | 'ready' | 'error';

export interface QueryResult<T> {
  status: Status;
  data: T | undefined;
  error: Error | undefined;
  retry: () => void;
}

type State<T> = { status: Status; data?: T; error?: Error; identity?: string | null };

// key null: nothing to load (the panel waits for a choice). identity names what
// is asked for apart from the refresh: while it stays the same a new key is a
// refresh and the old answer stays up; when it changes (another filter) the
// panel shows its skeleton, so no stale figure is ever shown as the new one.
export function useQuery<T>(key: string | null, fn: () => Promise<T>, identity: string | null = key): QueryResult<T> {
  // An answer already in (prefetched at boot, or asked for by another panel)
  // shows in the first render: no skeleton, no extra render.
  const [state, setState] = useState<State<T>>(() => {
    const hit = key === null ? undefined : peek<T>(key);
    return hit ? { status: 'ready', data: hit.value, identity } : { status: 'loading' };
  });
  const [attempt, setAttempt] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;

  useEffect(() => {
    if (key === null) return;
    const ready = (data: T) => (s: State<T>): State<T> => (s.status === 'ready' && s.data === data && s.identity === identity ? s : { status: 'ready', data, identity });
    const hit = peek<T>(key);
    if (hit) {
      setState(ready(hit.value));
      return;
    }
    let live = true;
    setState((s) => (s.status === 'ready' && s.identity === identity ? s : { status: 'loading' }));
    shared(key, () => fnRef.current()).then(
      (data) => live && setState(ready(data as T)),
      (error: Error) => live && setState({ status: 'error', error, identity }),
    );
    return () => {
      live = false;
    };
  }, [key, identity, attempt]);

  const retry = useCallback(() => {
    if (key) forget(key);
    setState({ status: 'loading' });
    setAttempt((a) => a + 1);
  }, [key]);

  return { status: state.status, data: state.data, error: state.error, retry };
}
