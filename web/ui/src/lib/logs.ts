// Pure logic of the log analyzer pages: level colours, categories, cursor
// paging, period comparison and the live viewer's capped line buffer.

export type Level = 'error' | 'warn' | 'info' | 'debug' | 'other';

// FATAL reads as ERROR and TRACE as DEBUG; a line no layout matched has no level.
export function levelOf(level: string | undefined): Level {
  switch ((level ?? '').trim().toUpperCase()) {
    case 'FATAL':
    case 'ERROR':
    case 'SEVERE':
      return 'error';
    case 'WARN':
    case 'WARNING':
      return 'warn';
    case 'INFO':
      return 'info';
    case 'DEBUG':
    case 'TRACE':
      return 'debug';
    default:
      return 'other';
  }
}

// ERROR red, WARN amber, INFO neutral, DEBUG grey: theme variables, each set
// for the dark and the light theme in styles.css.
export const LEVEL_COLORS: Record<Level, string> = {
  error: 'var(--lvl-error)',
  warn: 'var(--lvl-warn)',
  info: 'var(--text)',
  debug: 'var(--lvl-debug)',
  other: 'var(--lvl-debug)',
};

export function levelColor(level: string | undefined): string {
  return LEVEL_COLORS[levelOf(level)];
}

export interface CategoryDef {
  id: string;
  label: string;
  color: string;
}

// The classifier's categories (docs/api.md), with one colour each.
export const CATEGORIES: CategoryDef[] = [
  { id: 'access_token', label: 'Access-token errors', color: '#d89a00' },
  { id: 'app_error', label: 'Application errors', color: '#e04848' },
  { id: 'login', label: 'Login failures', color: '#8b5cf6' },
  { id: 'api_failure', label: 'API failures', color: '#a11d2b' },
  { id: 'api_deployed', label: 'APIs deployed', color: '#2f9e5b' },
  { id: 'api_deleted', label: 'APIs deleted', color: '#3b82f6' },
  { id: 'audit', label: 'Audit entries', color: '#76b7b2' },
  { id: '', label: 'Unclassified', color: '#8b93a1' },
];

export function categoryDef(id: string): CategoryDef {
  return CATEGORIES.find((c) => c.id === id) ?? { id, label: id, color: '#8b93a1' };
}

// Cursor paging: the server gives the cursor of the following page only, so
// the cursors of the pages seen are kept to go back. The first page's cursor is "".
export interface Paging {
  cursors: string[];
  index: number;
}

export const FIRST_PAGE: Paging = { cursors: [''], index: 0 };

export function pageCursor(p: Paging): string {
  return p.cursors[p.index] ?? '';
}

export function canNext(next: string | undefined): boolean {
  return !!next;
}

export function canPrev(p: Paging): boolean {
  return p.index > 0;
}

// next is the answer's `next` for the page shown; "" means it was the last.
export function nextPage(p: Paging, next: string): Paging {
  if (!next) return p;
  return { cursors: [...p.cursors.slice(0, p.index + 1), next], index: p.index + 1 };
}

export function prevPage(p: Paging): Paging {
  return p.index > 0 ? { cursors: p.cursors, index: p.index - 1 } : p;
}

// "51–100" for the rows of the page shown.
export function pageRows(p: Paging, limit: number, shown: number): string {
  if (shown === 0) return p.index === 0 ? 'No rows' : 'No more rows';
  const first = p.index * limit + 1;
  return `${first}–${first + shown - 1}`;
}

export interface StatusFigure {
  status: string;
  code: string;
  count: number;
}

export interface Delta {
  status: string;
  code: string;
  current: number;
  previous: number;
  delta: number;
  // (current − previous) / previous; null when the previous period had none.
  ratio: number | null;
}

// Each status of either period with its count in both, the most frequent now
// first (then the most frequent before, then by code).
export function compareStatuses(current: StatusFigure[], previous: StatusFigure[]): Delta[] {
  const rows = new Map<string, Delta>();
  const row = (s: StatusFigure) => {
    let r = rows.get(s.status);
    if (!r) rows.set(s.status, (r = { status: s.status, code: s.code, current: 0, previous: 0, delta: 0, ratio: null }));
    if (!r.code && s.code) r.code = s.code;
    return r;
  };
  for (const s of current) row(s).current += s.count;
  for (const s of previous) row(s).previous += s.count;
  const out = [...rows.values()].map((r) => ({ ...r, delta: r.current - r.previous, ratio: r.previous ? (r.current - r.previous) / r.previous : null }));
  return out.sort((a, b) => b.current - a.current || b.previous - a.previous || a.code.localeCompare(b.code) || a.status.localeCompare(b.status));
}

export function total(figs: { count: number }[]): number {
  return figs.reduce((a, f) => a + f.count, 0);
}

// The live viewer keeps at most cap lines: the newest, oldest first. evicted
// counts what fell off the top.
export function appendCapped<T>(lines: T[], incoming: T[], cap: number): { lines: T[]; evicted: number } {
  if (incoming.length === 0) return { lines, evicted: 0 };
  const all = lines.concat(incoming);
  if (all.length <= cap) return { lines: all, evicted: 0 };
  const evicted = all.length - cap;
  return { lines: all.slice(evicted), evicted };
}

// The first line of a record (a stack trace follows it), for table cells.
export function firstLine(content: string, max = 240): string {
  const i = content.indexOf('\n');
  const line = (i < 0 ? content : content.slice(0, i)).trimEnd();
  const more = i >= 0 && content.slice(i + 1).trim() !== '';
  const cut = line.length > max ? line.slice(0, max - 1) + '…' : line;
  return more && !cut.endsWith('…') ? cut + ' …' : cut;
}

// The message of a carbon line: what follows "} - " or " - " after the level,
// without the 2.x layout's repeated logger at the end.
export function messageOf(content: string): string {
  const line = firstLine(content, 10_000).replace(/ …$/, '');
  const m = /\}\s+-\s+(.*)$/.exec(line) ?? /\b(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+-\s+(.*)$/.exec(line);
  const msg = (m ? m[1] : line).replace(/\s*\{[\w.$]+\}\s*$/, '').trim();
  return msg || line;
}
