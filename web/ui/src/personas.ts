import type { Persona, Session } from './api/session';

// Navigation: each persona's pages, in the order of REFERENCE §6. This list is
// in the first chunk; the pages themselves load per persona on demand.
export interface PageDef {
  id: string;
  label: string;
  // A page of a timed persona that has no range (the live log viewer).
  untimed?: boolean;
}

export interface PersonaDef {
  id: Persona;
  label: string;
  // Traffic personas query with view=<id>; the others show no global filters.
  traffic: boolean;
  // Whether the top bar shows the range picker, zone and refresh without the
  // traffic filters (the log analyzer).
  timed?: boolean;
  pages: PageDef[];
}

export const PERSONAS: PersonaDef[] = [
  {
    id: 'business',
    label: 'Business Analytics',
    traffic: true,
    pages: [
      { id: 'overview', label: 'Overview' },
      { id: 'usage-summary', label: 'Usage Summary' },
      { id: 'api-usage', label: 'API Usage' },
      { id: 'performance', label: 'Performance' },
      { id: 'throttle', label: 'Throttle Summary' },
      { id: 'errors', label: 'Error Summary' },
      { id: 'api-errors', label: 'API Errors' },
      { id: 'devices', label: 'Devices' },
      { id: 'geo', label: 'Geo Map' },
      { id: 'apim', label: 'APIs and Developers' },
    ],
  },
  {
    id: 'api',
    label: 'API Analytics',
    traffic: true,
    pages: [
      { id: 'usage', label: 'Usage' },
      { id: 'performance', label: 'Performance' },
      { id: 'faults', label: 'Faults' },
    ],
  },
  {
    id: 'application',
    label: 'Application Analytics',
    traffic: true,
    pages: [
      { id: 'faults', label: 'Faults per API' },
      { id: 'users', label: 'Top Users' },
      { id: 'resources', label: 'Resource Usage' },
      { id: 'api-usage', label: 'API Usage' },
      { id: 'registered-users', label: 'Registered Users' },
    ],
  },
  {
    id: 'monitoring',
    label: 'Monitoring',
    traffic: true,
    pages: [
      { id: 'overview', label: 'Overview' },
      { id: 'errors', label: 'Errors' },
      { id: 'latency', label: 'Latency' },
      { id: 'traffic', label: 'Traffic' },
    ],
  },
  {
    id: 'loganalyzer',
    label: 'Log Analyzer',
    traffic: false,
    timed: true,
    pages: [
      { id: 'overview', label: 'Overview' },
      { id: 'app-errors', label: 'Application Errors' },
      { id: 'deployments', label: 'API Deployment Stats' },
      { id: 'login-errors', label: 'Login Errors' },
      { id: 'api-failures', label: 'API Failures' },
      { id: 'token-errors', label: 'Access Token Errors' },
      { id: 'live', label: 'Live Log Viewer', untimed: true },
    ],
  },
  { id: 'alerts', label: 'Alerts', traffic: false, pages: [{ id: 'overview', label: 'Alerts' }] },
  { id: 'reports', label: 'Reports', traffic: false, pages: [{ id: 'overview', label: 'Reports' }] },
  { id: 'settings', label: 'Settings', traffic: false, pages: [{ id: 'users', label: 'Users' }] },
];

export function findPersona(id: string): PersonaDef | undefined {
  return PERSONAS.find((p) => p.id === id);
}

// "/business/overview" → ["business", "overview"]; a bare persona opens its first page.
export function parsePath(pathname: string): { persona: string; page: string } {
  const [persona = '', page = ''] = pathname.split('/').filter(Boolean);
  return { persona, page: page || findPersona(persona)?.pages[0].id || '' };
}

// Where a user lands after the login, or at "/": the first page they may see.
export function home(s: Session): string {
  const p = PERSONAS.find((d) => s.personas.includes(d.id));
  return p ? `/${p.id}/${p.pages[0].id}` : '/none';
}
