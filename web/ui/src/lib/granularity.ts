import type { Resolved } from './ranges';

export type Granularity = 'minute' | 'hour' | 'day' | 'month' | 'year';
export const GRANULARITIES: Granularity[] = ['minute', 'hour', 'day', 'month', 'year'];

const STEP: Record<Granularity, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  month: 30 * 86_400_000,
  year: 365 * 86_400_000,
};

// Auto picks the coarsest granularity that still draws a useful line: at least
// MIN_POINTS buckets. Coarsest keeps the answers small and uses the rollups the
// server keeps longest; finer is chosen only when coarse would give too few points.
export const MIN_POINTS = 24;

export function autoGranularity(r: Resolved): Granularity {
  const span = r.to.getTime() - r.from.getTime();
  for (let i = GRANULARITIES.length - 1; i >= 0; i--) {
    const g = GRANULARITIES[i];
    if (span / STEP[g] >= MIN_POINTS) return g;
  }
  return 'minute';
}

export function effectiveGranularity(choice: 'auto' | Granularity, r: Resolved): Granularity {
  return choice === 'auto' ? autoGranularity(r) : choice;
}
