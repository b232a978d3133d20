import { useCallback, useEffect, useRef, useState } from 'react';

// Data loading for panels. Answers are shared by key (the request's URL), so a
// chart and the table behind it ask the server once. A refresh keeps showing the
// previous answer until the new one arrives, so panels do not blink.
export type Status = 'loading' | 'ready' | 'error';

export interface QueryResult<T> {
  status: Status;
  data: T | undefined;
  error: Error | undefined;
  retry: () => void;
}

const cache = new Map<string, { at: number; promise: Promise<unknown> }>();
const MAX_AGE = 5_000;

function shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < MAX_AGE) return hit.promise as Promise<T>;
  const promise = fn();
  cache.set(key, { at: now, promise });
  promise.catch(() => cache.delete(key));
  for (const [k, v] of cache) if (now - v.at >= MAX_AGE) cache.delete(k);
  return promise;
}

// key null: nothing to load (the panel waits for a choice). identity names what
// is asked for apart from the refresh: while it stays the same a new key is a
// refresh and the old answer stays up; when it changes (another filter) the
// panel shows its skeleton, so no stale figure is ever shown as the new one.
export function useQuery<T>(key: string | null, fn: () => Promise<T>, identity: string | null = key): QueryResult<T> {
  const [state, setState] = useState<{ status: Status; data?: T; error?: Error; identity?: string | null }>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;

  useEffect(() => {
    if (key === null) return;
    let live = true;
    setState((s) => (s.status === 'ready' && s.identity === identity ? s : { status: 'loading' }));
    shared(key, () => fnRef.current()).then(
      (data) => live && setState({ status: 'ready', data: data as T, identity }),
      (error: Error) => live && setState({ status: 'error', error, identity }),
    );
    return () => {
      live = false;
    };
  }, [key, identity, attempt]);

  const retry = useCallback(() => {
    if (key) cache.delete(key);
    setState({ status: 'loading' });
    setAttempt((a) => a + 1);
  }, [key]);

  return { status: state.status, data: state.data, error: state.error, retry };
}
