import { describe, expect, it } from 'vitest';
import { FIRST_PAGE, appendCapped, canNext, canPrev, compareStatuses, firstLine, levelColor, levelOf, messageOf, nextPage, pageCursor, pageRows, prevPage, total } from './logs';

describe('log levels', () => {
  it('maps levels to the four colour classes', () => {
    expect(levelOf('ERROR')).toBe('error');
    expect(levelOf('FATAL')).toBe('error');
    expect(levelOf(' WARN')).toBe('warn');
    expect(levelOf('warn')).toBe('warn');
    expect(levelOf('INFO')).toBe('info');
    expect(levelOf('DEBUG')).toBe('debug');
    expect(levelOf('TRACE')).toBe('debug');
    expect(levelOf('')).toBe('other');
    expect(levelOf(undefined)).toBe('other');
  });

  it('colours ERROR red, WARN amber, INFO neutral, DEBUG grey', () => {
    expect(levelColor('ERROR')).toBe('var(--lvl-error)');
    expect(levelColor('WARN')).toBe('var(--lvl-warn)');
    expect(levelColor('INFO')).toBe('var(--text)');
    expect(levelColor('DEBUG')).toBe('var(--lvl-debug)');
    expect(levelColor('')).toBe('var(--lvl-debug)');
  });
});

describe('cursor paging', () => {
  it('walks forward with the answers’ cursors and back through the ones seen', () => {
    let p = FIRST_PAGE;
    expect(pageCursor(p)).toBe('');
    expect(canPrev(p)).toBe(false);
    expect(canNext('c1')).toBe(true);
    p = nextPage(p, 'c1');
    expect(pageCursor(p)).toBe('c1');
    p = nextPage(p, 'c2');
    expect(p).toEqual({ cursors: ['', 'c1', 'c2'], index: 2 });
    expect(pageRows(p, 50, 50)).toBe('101–150');
    p = prevPage(p);
    expect(pageCursor(p)).toBe('c1');
    // Going forward again from an earlier page replaces the cursors after it.
    p = nextPage(p, 'c2b');
    expect(p).toEqual({ cursors: ['', 'c1', 'c2b'], index: 2 });
    p = prevPage(prevPage(prevPage(p)));
    expect(p.index).toBe(0);
  });

  it('stays on the last page when there is no next cursor', () => {
    const p = nextPage(FIRST_PAGE, '');
    expect(p).toBe(FIRST_PAGE);
    expect(canNext('')).toBe(false);
    expect(pageRows(FIRST_PAGE, 25, 0)).toBe('No rows');
    expect(pageRows(FIRST_PAGE, 25, 7)).toBe('1–7');
  });
});

describe('comparison with the previous period', () => {
  it('pairs the statuses of both periods with their change', () => {
    const d = compareStatuses(
      [
        { status: 'Invalid Credentials', code: '900901', count: 30 },
        { status: 'Missing Credentials', code: '900902', count: 10 },
      ],
      [
        { status: 'Missing Credentials', code: '900902', count: 20 },
        { status: 'Access Token Expired', code: '900903', count: 4 },
      ],
    );
    expect(d).toEqual([
      { status: 'Invalid Credentials', code: '900901', current: 30, previous: 0, delta: 30, ratio: null },
      { status: 'Missing Credentials', code: '900902', current: 10, previous: 20, delta: -10, ratio: -0.5 },
      { status: 'Access Token Expired', code: '900903', current: 0, previous: 4, delta: -4, ratio: -1 },
    ]);
    expect(total([{ count: 3 }, { count: 4 }])).toBe(7);
  });

  it('is empty when both periods are', () => {
    expect(compareStatuses([], [])).toEqual([]);
  });
});

describe('live line buffer', () => {
  it('keeps the newest lines up to the cap', () => {
    const a = appendCapped([1, 2, 3], [4, 5], 4);
    expect(a).toEqual({ lines: [2, 3, 4, 5], evicted: 1 });
    const b = appendCapped([], Array.from({ length: 2500 }, (_, i) => i), 2000);
    expect(b.lines.length).toBe(2000);
    expect(b.lines[0]).toBe(500);
    expect(b.evicted).toBe(500);
    const same = [1];
    expect(appendCapped(same, [], 2).lines).toBe(same);
    expect(appendCapped([1], [2], 2)).toEqual({ lines: [1, 2], evicted: 0 });
  });
});

describe('record text', () => {
  it('shows the first line and says more follows', () => {
    expect(firstLine('a\n\tat x')).toBe('a …');
    expect(firstLine('a')).toBe('a');
    expect(firstLine('x'.repeat(300), 10)).toBe('x'.repeat(9) + '…');
  });

  it('takes the message out of a carbon line', () => {
    expect(messageOf('TID: [-1234] [] [2018-10-05 11:04:48,398]  WARN {org.wso2.X} -  API authentication failure due to Invalid Credentials {org.wso2.X}')).toBe('API authentication failure due to Invalid Credentials');
    expect(messageOf('[2020-05-12 10:15:30,123] ERROR {org.a.B} - Boom\n\tat c')).toBe('Boom');
    expect(messageOf('[2020-05-12 10:15:30,123]  WARN - APIAuthenticationHandler Hi')).toBe('APIAuthenticationHandler Hi');
    expect(messageOf('garbage')).toBe('garbage');
  });
});
