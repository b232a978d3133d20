import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE, decodeState, encodeState, withoutPageKeys, type ViewState } from './urlstate';

describe('URL state', () => {
  it('decodes an empty query to the defaults', () => {
    expect(decodeState('')).toEqual(DEFAULT_STATE);
  });

  it('round-trips every field', () => {
    const states: ViewState[] = [
      DEFAULT_STATE,
      { range: { preset: 'back-15-minutes' }, gran: 'minute', tz: 'utc', refresh: 'off', tenant: 'carbon.super', api: 'PizzaShackAPI', application: 'App & Co' },
      { range: { from: '2026-01-01T00:00:00Z', to: '2026-02-01T12:00:00+01:00' }, gran: 'day', tz: 'local', refresh: 60, tenant: '', api: 'a b', application: '' },
    ];
    for (const s of states) {
      expect(decodeState('?' + encodeState(s))).toEqual(s);
    }
  });

  it('writes the documented parameter names', () => {
    const q = encodeState({ ...DEFAULT_STATE, api: 'X' });
    expect(q).toBe('range=last-3-months&gran=auto&tz=local&refresh=30&api=X');
  });

  it('ignores values it does not know', () => {
    const s = decodeState('?range=last-century&gran=fortnight&tz=mars&refresh=1&from=x');
    expect(s).toEqual(DEFAULT_STATE);
  });

  it('keeps the page-local choices and drops them for navigation', () => {
    const s = decodeState('?range=last-30-days&status=Invalid+Credentials&record=42&order=asc&compare=previous&category=app_error&logapi=admin--PizzaShackAPI%3Av1.0.0');
    expect(s).toMatchObject({ range: { preset: 'last-30-days' }, status: 'Invalid Credentials', record: '42', order: 'asc', compare: 'previous', category: 'app_error', logapi: 'admin--PizzaShackAPI:v1.0.0' });
    expect(decodeState(`?${encodeState(s)}`)).toEqual(s);
    expect(decodeState('?' + encodeState(s))).toEqual(s);
    expect(decodeState('?record=x&order=up&compare=next')).toEqual(DEFAULT_STATE);
    expect(withoutPageKeys('?range=last-day&status=a&record=1&tz=utc&logapi=x')).toBe('?range=last-day&tz=utc');
  });

  it('prefers a preset over from/to', () => {
    expect(decodeState('?range=last-day&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z').range).toEqual({ preset: 'last-day' });
  });
});
