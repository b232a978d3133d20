import { useSyncExternalStore } from 'react';

// A few lines of history-API routing: the app has one level of paths
// (/persona/page) and keeps all other state in the query.
const listeners = new Set<() => void>();

function notify(): void {
  listeners.forEach((f) => f());
}

window.addEventListener('popstate', notify);

export function navigate(url: string, replace = false): void {
  if (url === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  notify();
}

function subscribe(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function useLocation(): { pathname: string; search: string } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + '?' + location.search.replace(/^\?/, ''));
  const i = href.indexOf('?');
  return { pathname: href.slice(0, i), search: href.slice(i) };
}
