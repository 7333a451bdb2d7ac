/**
 * A table of rows described by columns: caption (visible or for screen readers only), one row
 * while loading, one when nothing matches, and a pager when the list is paged on the server.
 */
import type { ComponentChildren } from 'preact';
import { Pager, TableMessage } from './components.tsx';

export interface Column<Row> {
  /** The header cell; a string also names the column for screen readers. */
  header: ComponentChildren;
  cell: (row: Row) => ComponentChildren;
  class?: string;
}

export interface TablePage<Row> {
  rows: Row[] | null;
  total?: number;
  offset?: number;
  limit?: number;
  onOffset?: (offset: number) => void;
}

export function DataTable<Row extends { id: string }>(props: {
  caption: string;
  showCaption?: boolean;
  columns: Array<Column<Row>>;
  page: TablePage<Row>;
  /** What the rows are, for "Loading identities…" and the pager's name. */
  what: string;
  empty: ComponentChildren;
  rowClass?: (row: Row) => string | undefined;
  card?: boolean;
}) {
  const { rows, total, offset, limit, onOffset } = props.page;
  const table = (
    <table>
      <caption class={props.showCaption ? undefined : 'visually-hidden'}>{props.caption}</caption>
      <thead>
        <tr>
          {props.columns.map((column, index) => (
            <th key={index} scope="col" class={column.class}>
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows === null ? (
          <TableMessage columns={props.columns.length} loading={props.what.toLowerCase()} />
        ) : rows.length === 0 ? (
          <tr>
            <td colSpan={props.columns.length} class="muted">
              {props.empty}
            </td>
          </tr>
        ) : (
          rows.map((row) => (
            <tr key={row.id} class={props.rowClass?.(row)}>
              {props.columns.map((column, index) => (
                <td key={index} class={column.class}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
  const pager = rows !== null && total !== undefined && limit !== undefined && onOffset ? <Pager offset={offset ?? 0} limit={limit} total={total} onChange={onOffset} what={props.what} /> : null;
  if (props.card === false)
    return (
      <>
        {table}
        {pager}
      </>
    );
  return (
    <div class="card table-card">
      {table}
      {pager}
    </div>
  );
}
