import { createContext, useContext } from 'react';

export type Theme = 'dark' | 'light';

export const ThemeContext = createContext<Theme>('dark');

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

export function savedTheme(): Theme {
  try {
    return localStorage.getItem('apilens-theme') === 'light' ? 'light' : 'dark';
  } catch {
    return 'dark';
  }
}

export function applyTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
  try {
    localStorage.setItem('apilens-theme', t);
  } catch {
    // Private windows may refuse storage; the theme then lasts for this visit.
  }
}
