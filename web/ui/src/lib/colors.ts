// One colour meaning everywhere (UI.md). Chosen to stay readable on both themes.
export const STATUS_COLORS = {
  success: '#2f9e5b', // 2xx
  redirect: '#3b82f6', // 3xx
  client: '#d89a00', // 4xx
  server: '#e04848', // 5xx
  throttled: '#8b5cf6',
  faults: '#a11d2b',
} as const;

// Series palette without the status hues' exact tones, so an API line is never
// mistaken for "errors".
const PALETTE = [
  '#4e79a7', '#f28e2b', '#59a14f', '#76b7b2', '#edc948', '#b07aa1',
  '#ff9da7', '#9c755f', '#5fa2dd', '#d37295', '#8cd17d', '#499894',
  '#f1ce63', '#86bcb6', '#e15759', '#bab0ac',
];

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
