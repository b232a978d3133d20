import { describe, expect, it } from 'vitest';
import { toCsv } from './csv';

describe('CSV', () => {
  it('writes a header and rows with exact values, quoting where needed', () => {
    const rows = [
      { api: 'PizzaShackAPI', requests: 12400, p95: 278.7 },
      { api: 'Say "hi", then go', requests: 3, p95: null },
      { api: 'multi\nline', requests: 0, p95: 1.5 },
    ];
    const csv = toCsv(
      [
        { header: 'API', value: (r) => r.api },
        { header: 'Requests', value: (r) => r.requests },
        { header: 'p95 (ms)', value: (r) => r.p95 },
      ],
      rows,
    );
    expect(csv).toBe(
      'API,Requests,p95 (ms)\r\n' +
        'PizzaShackAPI,12400,278.7\r\n' +
        '"Say ""hi"", then go",3,\r\n' +
        '"multi\nline",0,1.5\r\n',
    );
  });

  it('writes only the header for no rows', () => {
    expect(toCsv([{ header: 'a', value: () => 1 }], [])).toBe('a\r\n');
  });
});
