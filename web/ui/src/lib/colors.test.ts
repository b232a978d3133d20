import { describe, expect, it } from 'vitest';
import { PALETTE, STATUS_COLORS, distinctColors, separateColors, seriesColor } from './colors';

describe('series colours', () => {
  it('gives a key the same colour every time', () => {
    expect(seriesColor('PizzaShackAPI')).toBe(seriesColor('PizzaShackAPI'));
    expect(PALETTE).toContain(seriesColor('x'));
  });
  it('keeps ten keys of one chart apart, whatever their order', () => {
    const keys = Array.from({ length: 10 }, (_, i) => `app-${i}`);
    const a = distinctColors(keys);
    expect(new Set(a.values()).size).toBe(10);
    expect(distinctColors([...keys].reverse())).toEqual(a);
  });
  it('never uses a status colour exactly', () => {
    for (const c of Object.values(STATUS_COLORS)) expect(PALETTE).not.toContain(c);
  });
  it('moves only colliding palette colours, keeping status colours', () => {
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    const entries = [...keys.map((k) => ({ key: k, color: seriesColor(k) })), { key: 'throttled', color: STATUS_COLORS.throttled }];
    const out = separateColors(entries);
    expect(out[out.length - 1]).toBe(STATUS_COLORS.throttled);
    expect(new Set(out.slice(0, 10)).size).toBe(10);
    expect(separateColors([{ key: 'a', color: seriesColor('a') }])).toEqual([seriesColor('a')]);
  });
});
