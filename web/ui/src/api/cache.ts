// The answers of GET calls, shared by key (the request's URL or a name for it),
// so a chart and the table behind it, or the boot's prefetch and the page that
// asks again, go to the server once. No React here: the boot chunk uses it
// before React has loaded.
interface Entry {
  at: number;
  promise: Promise<unknown>;
  // Set once the answer is in, so a panel mounting after it can show it in its
  // first render instead of a skeleton and a second render.
  settled?: { value: unknown };
}

const cache = new Map<string, Entry>();
export const MAX_AGE = 5_000;

export function shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < MAX_AGE) return hit.promise as Promise<T>;
  const promise = fn();
  const entry: Entry = { at: now, promise };
  cache.set(key, entry);
  promise.then(
    (value) => (entry.settled = { value }),
    () => cache.get(key) === entry && cache.delete(key),
  );
  for (const [k, v] of cache) if (now - v.at >= MAX_AGE) cache.delete(k);
  return promise;
}

// The answer for key if it is in and still fresh.
export function peek<T>(key: string): { value: T } | undefined {
  const hit = cache.get(key);
  return hit && Date.now() - hit.at < MAX_AGE ? (hit.settled as { value: T } | undefined) : undefined;
}

export function forget(key: string): void {
  cache.delete(key);
}
