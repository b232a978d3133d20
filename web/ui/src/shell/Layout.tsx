import type { MouseEvent, ReactNode } from 'react';
import type { Session } from '../api/session';
import type { View } from '../api/traffic';
import { PERSONAS, type PersonaDef } from '../personas';
import { navigate } from '../router';
import type { Theme } from '../theme';
import { withoutPageKeys } from '../lib/urlstate';
import { Filters } from './Filters';
import { RangePicker } from './RangePicker';
import { TimeControls } from './TimeControls';

// Navigation links keep the query, so the range and filters follow the user.
function go(e: MouseEvent<HTMLAnchorElement>) {
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(e.currentTarget.getAttribute('href')!);
}

function Nav({ session, persona, page, search }: { session: Session; persona: string; page: string; search: string }) {
  const mine = PERSONAS.filter((p) => session.personas.includes(p.id));
  const keep = withoutPageKeys(search);
  return (
    <nav className="nav" aria-label="Dashboards">
      {mine.map((p) => (
        <div key={p.id} className="nav-group">
          <div className="nav-group-head" data-testid={`nav-group-${p.id}`}>
            {p.label}
          </div>
          <ul>
            {p.pages.map((pg) => {
              const here = p.id === persona && pg.id === page;
              return (
                <li key={pg.id}>
                  <a href={`/${p.id}/${pg.id}${keep}`} data-testid={`nav-${p.id}-${pg.id}`} aria-current={here ? 'page' : undefined} onClick={go}>
                    {pg.label}
                  </a>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </nav>
  );
}

export function Layout(props: {
  session: Session;
  persona?: PersonaDef;
  page: string;
  allowed: boolean;
  search: string;
  theme: Theme;
  onTheme: () => void;
  onLogout: () => void;
  children: ReactNode;
}) {
  const { session, persona } = props;
  const traffic = !!persona?.traffic && props.allowed;
  const timed = traffic || (!!persona?.timed && props.allowed && !persona.pages.find((p) => p.id === props.page)?.untimed);
  return (
    <div className="app">
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">◎</span> apilens
        </div>
        {traffic && <Filters view={persona!.id as View} />}
        <div className="topbar-right">
          {timed && <RangePicker />}
          {timed && <TimeControls granularity={traffic} />}
          <button type="button" className="btn btn-small" data-testid="theme-toggle" onClick={props.onTheme} aria-label={`Switch to ${props.theme === 'dark' ? 'light' : 'dark'} theme`}>
            {props.theme === 'dark' ? '☀ Light' : '☾ Dark'}
          </button>
          <span className="user" title={`Roles: ${session.user.roles.join(', ')}`}>
            {session.user.name}
            {session.user.tenant && <span className="muted"> @{session.user.tenant}</span>}
          </span>
          <button type="button" className="btn btn-small" data-testid="logout" onClick={props.onLogout}>
            Sign out
          </button>
        </div>
      </header>
      <Nav session={session} persona={persona?.id ?? ''} page={props.page} search={props.search} />
      <div className="content" id="content">
        {props.children}
      </div>
    </div>
  );
}
