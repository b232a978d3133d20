import { useMemo, useState, type ReactNode } from 'react';
import {
  flexRender,
  getCoreRowModel,
  getPaginationRowModel,
  getSortedRowModel,
  useReactTable,
  type ColumnDef,
  type SortingState,
} from '@tanstack/react-table';
import { downloadCsv, toCsv } from '../lib/csv';

export interface Column<T> {
  id: string;
  header: string;
  value: (row: T) => string | number | null | undefined;
  format?: (v: number) => string;
  numeric?: boolean;
  // The CSV holds exact values, so its header names their unit ("p95 (ms)")
  // where the table shows spoken units in the cells.
  csvHeader?: string;
}

// A sortable, paged table. Cells show formatted figures and carry the exact
// value in data-value; the CSV export writes the exact values of every row in
// the order shown.
export function DataTable<T>(props: {
  testid: string;
  name: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  initialSort?: SortingState;
  pageSize?: number;
  onRowClick?: (row: T) => void;
  // Per-row controls (e.g. Remove) in a last, unsorted column.
  actions?: { header: string; render: (row: T) => ReactNode };
  caption?: string;
  // The traffic/top dimension the rows come from, for scripts reading the page.
  dimension?: string;
}) {
  const [sorting, setSorting] = useState<SortingState>(props.initialSort ?? []);
  const [pagination, setPagination] = useState({ pageIndex: 0, pageSize: props.pageSize ?? 10 });

  const columns = useMemo<ColumnDef<T>[]>(
    () =>
      props.columns.map((c) => ({
        id: c.id,
        header: c.header,
        accessorFn: (r: T) => c.value(r) ?? (c.numeric ? -Infinity : ''),
        sortDescFirst: !!c.numeric,
        meta: c,
      })),
    [props.columns],
  );

  const table = useReactTable({
    data: props.rows,
    columns,
    state: { sorting, pagination },
    onSortingChange: setSorting,
    onPaginationChange: setPagination,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    getPaginationRowModel: getPaginationRowModel(),
    getRowId: (r) => props.rowKey(r),
    autoResetPageIndex: false,
  });

  const total = props.rows.length;
  const { pageIndex, pageSize } = table.getState().pagination;
  const first = total === 0 ? 0 : pageIndex * pageSize + 1;
  const last = Math.min(total, (pageIndex + 1) * pageSize);

  function exportCsv() {
    const rows = table.getSortedRowModel().rows.map((r) => r.original);
    downloadCsv(`${props.name}.csv`, toCsv(props.columns.map((c) => ({ header: c.csvHeader ?? c.header, value: c.value })), rows));
  }

  return (
    <div className="table-wrap">
      <div className="table-scroll">
        <table data-testid={props.testid} data-dimension={props.dimension}>
          {props.caption && <caption className="sr-only">{props.caption}</caption>}
          <thead>
            {table.getHeaderGroups().map((hg) => (
              <tr key={hg.id}>
                {hg.headers.map((h) => {
                  const c = h.column.columnDef.meta as Column<T>;
                  const dir = h.column.getIsSorted();
                  return (
                    <th key={h.id} data-column={c.id} className={c.numeric ? 'num' : ''} aria-sort={dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none'}>
                      <button type="button" className="sort" onClick={h.column.getToggleSortingHandler()}>
                        {flexRender(h.column.columnDef.header, h.getContext())}
                        <span className="arrow" aria-hidden="true">
                          {dir === 'asc' ? '▲' : dir === 'desc' ? '▼' : '↕'}
                        </span>
                      </button>
                    </th>
                  );
                })}
                {props.actions && <th className="actions">{props.actions.header}</th>}
              </tr>
            ))}
          </thead>
          <tbody>
            {table.getRowModel().rows.map((row) => (
              <tr
                key={row.id}
                data-key={row.id}
                className={props.onRowClick ? 'clickable' : undefined}
                onClick={props.onRowClick ? () => props.onRowClick!(row.original) : undefined}
              >
                {row.getVisibleCells().map((cell) => {
                  const c = cell.column.columnDef.meta as Column<T>;
                  const v = c.value(row.original);
                  const shown = v === null || v === undefined ? '–' : typeof v === 'number' && c.format ? c.format(v) : String(v);
                  return (
                    <td key={cell.id} className={c.numeric ? 'num' : ''} data-value={v ?? ''} title={typeof v === 'number' ? String(v) : undefined}>
                      {props.onRowClick && c === props.columns[0] ? (
                        <button type="button" className="linkish" onClick={(e) => { e.stopPropagation(); props.onRowClick!(row.original); }}>
                          {shown}
                        </button>
                      ) : (
                        shown
                      )}
                    </td>
                  );
                })}
                {props.actions && <td className="actions">{props.actions.render(row.original)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="table-foot">
        <span className="muted" data-testid={`${props.testid}-count`}>
          {total === 0 ? 'No rows' : `${first}–${last} of ${total} rows`}
        </span>
        <span className="pager">
          <label>
            Rows per page{' '}
            <select value={pageSize} onChange={(e) => table.setPageSize(Number(e.target.value))}>
              {[10, 25, 50, 100].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="btn btn-small" onClick={() => table.previousPage()} disabled={!table.getCanPreviousPage()} aria-label="Previous page">
            ‹
          </button>
          <button type="button" className="btn btn-small" onClick={() => table.nextPage()} disabled={!table.getCanNextPage()} aria-label="Next page">
            ›
          </button>
          <button type="button" className="btn btn-small" onClick={exportCsv} disabled={total === 0}>
            Export CSV
          </button>
        </span>
      </div>
    </div>
  );
}
