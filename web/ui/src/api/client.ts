// The one place that talks HTTP. It adds the CSRF token to state-changing calls,
// turns error bodies into words, and reports a 401 so the app can return to the
// login page keeping the URL the user wanted.

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public code = '',
    public retryAfter = 0,
  ) {
    super(message);
  }
}

let csrfToken = '';
let onUnauthorized: () => void = () => {};

export function setCsrfToken(t: string): void {
  csrfToken = t;
}

export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

function describe(status: number): string {
  if (status === 403) return 'You are not allowed to see this.';
  if (status === 404) return 'The server does not know this request (is it an older apilens?).';
  if (status >= 500) return `The server failed to answer (HTTP ${status}).`;
  return `The request failed (HTTP ${status}).`;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  // The login call answers 401 for a wrong password: that is not a lost session.
  allow401?: boolean;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'Could not reach the apilens server. Check that it is running and the network is up.');
  }

  if (res.status === 401 && !opts.allow401) {
    onUnauthorized();
    throw new ApiError(401, 'Your session has ended. Please sign in again.', 'unauthorized');
  }
  if (!res.ok) {
    let message = describe(res.status);
    let code = '';
    try {
      const body = await res.json();
      if (body && typeof body.error === 'string') message = body.error;
      if (body && typeof body.code === 'string') code = body.code;
    } catch {
      // Not JSON (a proxy's error page): keep the words made from the status.
    }
    throw new ApiError(res.status, message, code, Number(res.headers.get('Retry-After')) || 0);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}
