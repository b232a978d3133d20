import { request, setCsrfToken } from './client';

export type Persona = 'business' | 'api' | 'application' | 'monitoring' | 'loganalyzer' | 'alerts' | 'reports' | 'settings';

export interface Session {
  user: { name: string; roles: string[]; tenant: string };
  personas: Persona[];
  csrfToken: string;
}

export async function getSession(): Promise<Session> {
  const s = await request<Session>('/api/v1/session');
  setCsrfToken(s.csrfToken);
  return s;
}

export async function login(username: string, password: string): Promise<Session> {
  const s = await request<Session>('/api/v1/session', { method: 'POST', body: { username, password }, allow401: true });
  setCsrfToken(s.csrfToken);
  return s;
}

export async function logout(): Promise<void> {
  try {
    await request<void>('/api/v1/session', { method: 'DELETE', allow401: true });
  } finally {
    setCsrfToken('');
  }
}

// The session the server wrote into the page (web/ui.go) when the request for
// it carried a live session cookie, taken once, at boot. Without one (no
// session, the dev server, a page opened from another site's link, which the
// SameSite=Strict cookie does not follow) the app asks the API.
export function sessionFromPage(): Session | null {
  const el = document.getElementById('apilens-session');
  if (!el) return null;
  el.remove();
  try {
    const s = JSON.parse(el.textContent ?? '') as Session;
    return s && Array.isArray(s.personas) && typeof s.csrfToken === 'string' ? s : null;
  } catch {
    return null;
  }
}

// The first session check starts with the boot chunk, before the app's code has
// loaded (boot.ts), or is the page's own session; the app takes that answer
// once, then asks anew.
let first: Promise<Session> | null = null;
let known: Session | null = null;
export function startFirstCheck(inPage: Session | null = null): Promise<Session> {
  known = inPage;
  if (inPage) setCsrfToken(inPage.csrfToken);
  first = inPage ? Promise.resolve(inPage) : getSession();
  first.catch(() => undefined);
  return first;
}
export function takeFirstCheck(): Promise<Session> | null {
  const p = first;
  first = null;
  known = null;
  return p;
}
// The first check's answer when the page brought it, so the app's first render
// can show the page rather than wait a turn for the promise.
export function firstSession(): Session | null {
  return known;
}
