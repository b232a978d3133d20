// One colour meaning everywhere (UI.md). Chosen to stay readable on both themes.
export const STATUS_COLORS = {
  success: '#2f9e5b', // 2xx
  redirect: '#3b82f6', // 3xx
  client: '#d89a00', // 4xx
  server: '#e04848', // 5xx
  throttled: '#8b5cf6',
  faults: '#a11d2b',
} as const;

// Series palette: ten hues that stay apart from one another (Tableau 10, its
// blue lightened for the dark theme), with only one blue and one cyan, none the
// exact tone of a status colour, so an API line is never mistaken for "errors".
// A key keeps its colour on every load and page; within one chart, keys whose
// colours collide are moved to the next free hue (see distinctColors).
export const PALETTE = ['#5b8fd0', '#f28e2b', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#59a14f', '#9c755f', '#e15759', '#bab0ac'];

// FNV-1a: the same key gets the same colour on every load and every page.
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function seriesColor(key: string): string {
  return PALETTE[hashKey(key) % PALETTE.length];
}

// The colours of one chart's series: each key its own hue (while there are at
// most as many keys as hues), the same hue for the same set of keys every time.
// Keys are settled in sorted order, so the result does not depend on ranking.
export function distinctColors(keys: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<number>();
  for (const k of [...new Set(keys)].sort()) {
    let i = hashKey(k) % PALETTE.length;
    if (used.size < PALETTE.length) while (used.has(i)) i = (i + 1) % PALETTE.length;
    used.add(i);
    out.set(k, PALETTE[i]);
  }
  return out;
}

// Within one chart, palette colours shared by different keys are replaced so
// that every key has its own; other colours (the status hues) stay.
export function separateColors(entries: { key: string; color: string }[]): string[] {
  const palette = new Set(PALETTE);
  const byColor = new Map<string, Set<string>>();
  for (const e of entries) if (palette.has(e.color)) byColor.set(e.color, (byColor.get(e.color) ?? new Set()).add(e.key));
  if ([...byColor.values()].every((ks) => ks.size < 2)) return entries.map((e) => e.color);
  const assigned = distinctColors(entries.filter((e) => palette.has(e.color)).map((e) => e.key));
  return entries.map((e) => (palette.has(e.color) ? assigned.get(e.key)! : e.color));
}
