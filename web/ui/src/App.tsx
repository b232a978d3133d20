import { lazy, Suspense, useCallback, useEffect, useState, type ComponentType } from 'react';
import { loadPage, loadedPages, type PersonaModule } from './pages/loaders';
import { ApiError, setUnauthorizedHandler } from './api/client';
import { firstSession, getSession, logout, takeFirstCheck, type Persona, type Session } from './api/session';
import { findPersona, home, parsePath } from './personas';
import { navigate, useLocation } from './router';
import { Layout } from './shell/Layout';
import { Login } from './shell/Login';
import { ErrorState } from './components/states';
import { applyTheme, savedTheme, ThemeContext, type Theme } from './theme';
import { ViewProvider } from './view';

// Each persona's pages load on first visit only (pages/loaders.ts); the
// personas without pages yet share the placeholder's small chunk.
const placeholder = (persona: Persona, title: string) => () =>
  import('./pages/Placeholder').then((m): PersonaModule => ({ default: (p) => <m.default persona={persona} page={p.page} title={title} /> }));
const LOADERS: Record<Persona, () => Promise<PersonaModule>> = {
  business: () => loadPage('business'),
  api: () => loadPage('api'),
  application: () => loadPage('application'),
  monitoring: () => loadPage('monitoring'),
  settings: () => loadPage('settings'),
  loganalyzer: () => loadPage('loganalyzer'),
  alerts: placeholder('alerts', 'Alerts'),
  reports: placeholder('reports', 'Reports'),
};

// A chunk that has already arrived (boot.ts starts the landing page's) is
// handed to lazy() as a thenable that answers at once: React then renders the
// page in the same pass instead of showing the Suspense fallback first and
// the page in a later render.
const settledThenable = (m: PersonaModule) => ({ then: (ok: (m: PersonaModule) => void) => ok(m) }) as unknown as Promise<PersonaModule>;
const MODULES = Object.fromEntries(
  Object.entries(LOADERS).map(([k, load]) => {
    const loaded = () => loadedPages[k as Persona];
    return [k, lazy(() => (loaded() ? settledThenable(loaded()!) : load()))];
  }),
) as unknown as Record<Persona, ComponentType<{ page: string; me: string }>>;

function loginUrl(): string {
  const want = location.pathname + location.search;
  return want.startsWith('/login') ? want : `/login?next=${encodeURIComponent(want)}`;
}

// Only paths of this app are followed after login, never another site.
function safeNext(search: string): string | null {
  const next = new URLSearchParams(search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : null;
}

export function App() {
  const { pathname, search } = useLocation();
  // The page's own session (boot.ts) shows the app in the first render.
  const [session, setSession] = useState<Session | null | undefined>(() => firstSession() ?? undefined);
  const [bootError, setBootError] = useState<Error | null>(null);
  const [theme, setTheme] = useState<Theme>(savedTheme);

  useEffect(() => applyTheme(theme), [theme]);

  const check = useCallback(() => {
    setBootError(null);
    // The boot chunk's check (started before this code loaded), then new ones.
    const p = takeFirstCheck() ?? getSession();
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
