import { lazy, Suspense, useCallback, useEffect, useState, type ComponentType } from 'react';
import { ApiError, setUnauthorizedHandler } from './api/client';
import { getSession, logout, type Persona, type Session } from './api/session';
import { findPersona, parsePath, PERSONAS } from './personas';
import { navigate, useLocation } from './router';
import { Layout } from './shell/Layout';
import { Login } from './shell/Login';
import { ErrorState } from './components/states';
import { applyTheme, savedTheme, ThemeContext, type Theme } from './theme';
import { ViewProvider } from './view';

// Each persona's pages (and ECharts with them) load on first visit only, so the
// first chunk holds just the shell and the login.
type PersonaModule = { default: ComponentType<{ page: string; me: string }> };
const placeholder = (persona: Persona, title: string) => () =>
  import('./pages/Placeholder').then((m): PersonaModule => ({ default: (p) => <m.default persona={persona} page={p.page} title={title} /> }));
const LOADERS: Record<Persona, () => Promise<PersonaModule>> = {
  business: () => import('./pages/business/index'),
  api: () => import('./pages/api/index'),
  application: () => import('./pages/application/index'),
  monitoring: () => import('./pages/monitoring/index'),
  settings: () => import('./pages/settings/index'),
  loganalyzer: () => import('./pages/loganalyzer/index'),
  alerts: placeholder('alerts', 'Alerts'),
  reports: placeholder('reports', 'Reports'),
};
const MODULES = Object.fromEntries(Object.entries(LOADERS).map(([k, f]) => [k, lazy(f)])) as unknown as Record<Persona, ComponentType<{ page: string; me: string }>>;

// The opened page's chunk loads while the session is checked, not after; at
// "/" that is the first persona's (the Business overview, where an admin lands).
const opened = parsePath(location.pathname).persona as Persona;
const guess = opened in LOADERS ? opened : location.pathname === '/' ? PERSONAS[0].id : null;
if (guess) LOADERS[guess]().catch(() => undefined);

// The session check starts with this module, before React's first render.
let firstCheck: Promise<Session> | null = getSession();
firstCheck?.catch(() => undefined);

function loginUrl(): string {
  const want = location.pathname + location.search;
  return want.startsWith('/login') ? want : `/login?next=${encodeURIComponent(want)}`;
}

function home(s: Session): string {
  const p = PERSONAS.find((d) => s.personas.includes(d.id));
  return p ? `/${p.id}/${p.pages[0].id}` : '/none';
}

// Only paths of this app are followed after login, never another site.
function safeNext(search: string): string | null {
  const next = new URLSearchParams(search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : null;
}

export function App() {
  const { pathname, search } = useLocation();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [bootError, setBootError] = useState<Error | null>(null);
  const [theme, setTheme] = useState<Theme>(savedTheme);

  useEffect(() => applyTheme(theme), [theme]);

  const check = useCallback(() => {
    setBootError(null);
    const p = firstCheck ?? getSession();
    firstCheck = null;
    p.then(setSession, (e: Error) => {
      if (e instanceof ApiError && e.status === 401) setSession(null);
      else setBootError(e);
    });
  }, []);

  useEffect(() => {
    // Any 401 means the session is gone: back to the login, keeping the URL wanted.
    setUnauthorizedHandler(() => {
      setSession(null);
      navigate(loginUrl(), true);
    });
    check();
  }, [check]);

  // Where this URL must go instead: the login without a session, a page after it.
  let redirect: string | null = null;
  if (session === null && !pathname.startsWith('/login')) redirect = loginUrl();
  else if (session && (pathname.startsWith('/login') || pathname === '/')) redirect = safeNext(search) ?? home(session) + (pathname === '/' ? search : '');
  useEffect(() => {
    if (redirect) navigate(redirect, true);
  }, [redirect]);

  const onLogin = (s: Session) => {
    setSession(s);
    navigate(safeNext(search) ?? home(s), true);
  };
  const onLogout = async () => {
    await logout().catch(() => undefined);
    setSession(null);
    navigate('/login', true);
  };

  if (bootError) {
    return (
      <main className="login" data-testid="page-boot-error">
        <ErrorState error={bootError} onRetry={check} />
      </main>
    );
  }
  if (session === undefined) return <div className="boot" aria-busy="true" />;
  if (redirect) return null;
  if (session === null) return <Login onLogin={onLogin} />;

  const { persona: pid, page } = parsePath(pathname);
  const persona = findPersona(pid);
  const known = !!persona && persona.pages.some((p) => p.id === page);
  const allowed = known && session.personas.includes(persona!.id);

  let body;
  if (session.personas.length === 0) {
    body = <Message testid="forbidden" title="Your account has no dashboards." text="It may only publish events. Ask an administrator for an analytics role." />;
  } else if (!known) {
    body = <Message testid="not-found" title="There is no such page." text="Choose a page from the navigation." />;
  } else if (!allowed) {
    body = <Message testid="forbidden" title="You don't have access to this page." text={`Your roles (${session.user.roles.join(', ') || 'none'}) do not include ${persona!.label}. Ask an administrator if you need it.`} />;
  } else {
    const Module = MODULES[persona!.id];
    body = (
      <Suspense fallback={<main className="page" data-state="loading" aria-busy="true" />}>
        <Module key={`${persona!.id}/${page}`} page={page} me={session.user.name} />
      </Suspense>
    );
  }

  return (
    <ThemeContext.Provider value={theme}>
      <ViewProvider>
        <Layout session={session} persona={persona} page={page} allowed={allowed} search={search} theme={theme} onTheme={() => setTheme(theme === 'dark' ? 'light' : 'dark')} onLogout={onLogout}>
          {body}
        </Layout>
      </ViewProvider>
    </ThemeContext.Provider>
  );
}

function Message({ testid, title, text }: { testid: string; title: string; text: string }) {
  return (
    <main className="page">
      <div className="state state-empty" data-testid={testid} role="alert">
        <p>
          <strong>{title}</strong>
        </p>
        <p>{text}</p>
      </div>
    </main>
  );
}
