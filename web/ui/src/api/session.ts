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

// The first session check starts with the boot chunk, before the app's code has
// loaded (boot.ts); the app takes that answer once, then asks anew.
let first: Promise<Session> | null = null;
export function startFirstCheck(): Promise<Session> {
  first = getSession();
  first.catch(() => undefined);
  return first;
}
export function takeFirstCheck(): Promise<Session> | null {
  const p = first;
  first = null;
  return p;
}
