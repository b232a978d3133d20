import type { ComponentType } from 'react';
import type { Persona } from '../api/session';

// Each persona's pages (and ECharts with them) load on first visit only, so the
// first chunks hold just the shell and the login. No React here: the boot chunk
// (boot.ts) starts the landing page's chunk alongside the app's.
export type PersonaModule = { default: ComponentType<{ page: string; me: string }> };

export const PAGE_LOADERS: Partial<Record<Persona, () => Promise<PersonaModule>>> = {
  business: () => import('./business/index'),
  api: () => import('./api/index'),
  application: () => import('./application/index'),
  monitoring: () => import('./monitoring/index'),
  settings: () => import('./settings/index'),
  loganalyzer: () => import('./loganalyzer/index'),
};

// The modules that have arrived, so App can render one without suspending.
export const loadedPages: Partial<Record<Persona, PersonaModule>> = {};

export function loadPage(p: Persona): Promise<PersonaModule> {
  return PAGE_LOADERS[p]!().then((m) => (loadedPages[p] = m));
}
