import type { SeriesOpts, TopOpts } from '../../api/queries';

// The Business overview's own traffic calls (its KPI tiles add the summary of
// the range and of the period before, and the ungrouped series). They live
// apart from the page so the boot chunk can start them (prefetch.ts) with the
// very options the page uses, before the page's code has loaded.
export const OVERVIEW = {
  usage: { groupBy: 'api', limit: 10 },
  throttled: { groupBy: 'api', limit: 10, rank: 'throttled' },
  daily: { granularity: 'day' },
  apis: { dimension: 'api', limit: 200 },
} satisfies Record<string, SeriesOpts | TopOpts>;
