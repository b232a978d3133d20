import { describe, expect, it } from 'vitest';
import { PERSONAS, parsePath } from './personas';
import { isUnknown } from './pages/business/enrichment';

describe('navigation', () => {
  it('lists the personas in the order docs/api.md gives', () => {
    expect(PERSONAS.map((p) => p.id)).toEqual(['business', 'api', 'application', 'monitoring', 'loganalyzer', 'alerts', 'reports', 'settings']);
  });

  it('parses page paths, a bare persona opening its first page', () => {
    expect(parsePath('/business/overview')).toEqual({ persona: 'business', page: 'overview' });
    expect(parsePath('/monitoring/traffic/')).toEqual({ persona: 'monitoring', page: 'traffic' });
    expect(parsePath('/api')).toEqual({ persona: 'api', page: 'usage' });
    expect(parsePath('/nothing')).toEqual({ persona: 'nothing', page: '' });
  });

  it('gives page ids that are unique within a persona', () => {
    for (const p of PERSONAS) expect(new Set(p.pages.map((x) => x.id)).size).toBe(p.pages.length);
  });
});

describe('unknown dimension values', () => {
  it('treats the store placeholders as unknown', () => {
    for (const v of ['UNKNOWN', 'N/A', 'Other', 'OTHER', '', undefined]) expect(isUnknown(v), String(v)).toBe(true);
    for (const v of ['Germany', 'Chrome', 'Linux']) expect(isUnknown(v)).toBe(false);
  });
});
