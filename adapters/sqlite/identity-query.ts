/**
 * Translates an IdentityQuery into a parameterized WHERE clause over the identities table (alias i).
 * - Values only ever travel as bound parameters; attribute names come from a fixed whitelist.
 * - Case-insensitive attributes compare through *_key columns (or latchkey_fold()) holding
 *   caseKey(), the same function record-filter.ts uses, so non-ASCII letters fold too.
 * - userName, email (any address: email_key and identity_emails), externalId, displayName, created/updated
 *   times are indexed, and so are oktaUserId and `active eq false` (partial indexes over the rows
 *   that have them); every other leaf is still answered in SQL, without an index. Only `where`
 *   predicates cannot be: the query then returns candidates and record-filter.ts decides.
 * - Under NOT a leaf is wrapped in IFNULL(…, 0) so an unassigned attribute is "false" there too,
 *   exactly as record-filter.ts evaluates it (elsewhere NULL already filters out, and the bare
 *   comparison is what lets SQLite use the index).
 * - Enrollment status is derived with EXISTS over passkeys and invites, never stored, so it cannot
 *   drift from the records it summarizes.
 */
import type { FilterOperator, FilterValue, IdentityFilter, IdentityFilterAttr, IdentityQuery, IdentitySortAttr, EnrollmentStatus } from '../../server/ports/storage.ts';
import { caseKey, identityOperand, isLeaf, type Leaf } from '../../server/ports/record-filter.ts';

export const HAS_PASSKEY = 'EXISTS (SELECT 1 FROM passkeys p WHERE p.identity_id = i.id)';
/** One bound parameter: now. An invite keeps an identity pending while it could still be spent. */
export const HAS_OPEN_INVITE = `EXISTS (SELECT 1 FROM invites v WHERE v.identity_id = i.id
  AND v.spent_at IS NULL AND v.revoked_at IS NULL AND v.expires_at > ?)`;

export const foldCase = caseKey;

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/** Column expressions, in comparison form. */
const COLUMNS: Record<Exclude<IdentityFilterAttr, 'email' | 'group'>, string> = {
  id: 'i.id',
  userName: 'i.user_name_key',
  externalId: 'i.external_id',
  oktaUserId: 'i.okta_user_id',
  active: 'i.active',
  displayName: 'i.display_name_key',
  givenName: 'latchkey_fold(i.given_name)',
  familyName: 'latchkey_fold(i.family_name)',
  locale: 'latchkey_fold(i.locale)',
  createdAt: 'i.created_at',
  updatedAt: 'i.updated_at',
  source: 'i.source',
};

const SORT_COLUMNS: Record<IdentitySortAttr, string> = { ...COLUMNS, email: 'i.email_key' };

/** `a OP b` in SQL for one operator; null when the operator cannot apply to the value. */
export function comparison(column: string, op: FilterOperator, value: FilterValue | undefined, params: unknown[]): string {
  const bound = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  switch (op) {
    case 'pr':
      return `(${column} IS NOT NULL AND ${column} <> '')`;
    case 'eq':
      params.push(bound);
      return `${column} = ?`;
    case 'ne':
      params.push(bound);
      return `(${column} IS NULL OR ${column} <> ?)`;
    case 'co':
    case 'sw':
    case 'ew':
      if (typeof value !== 'string') return '0';
      params.push(value);
      if (op === 'co') return `instr(${column}, ?) > 0`;
      if (op === 'ew') return `latchkey_ends_with(${column}, ?)`;
      // A prefix is a range, so an index on the column answers it.
      params.push(`${value}\u{10FFFF}`);
      return `(${column} >= ? AND ${column} < ?)`;
    default: {
      if (typeof value === 'boolean' || value === undefined) return '0';
      params.push(value);
      const sign = { gt: '>', ge: '>=', lt: '<', le: '<=' }[op];
      return `${column} ${sign} ?`;
    }
  }
}

function leafSql(leaf: Leaf<IdentityFilterAttr>, params: unknown[], negated: boolean): string {
  const op = leaf.op ?? 'eq';
  const value = identityOperand(leaf.attr, leaf.value);
  if (leaf.attr === 'group') {
    params.push(String(value));
    // IN rather than EXISTS: SQLite can then start from the group's members instead of every identity.
    return `i.id ${op === 'ne' ? 'NOT IN' : 'IN'} (SELECT gm.identity_id FROM group_members gm WHERE gm.group_id = ?)`;
  }
  if (leaf.attr === 'email') {
    // Any address: the primary's key on the row (unless it holds a placeholder, which starts with
    // a space: a real key is trimmed), every other address in identity_emails (identities.ts).
    if (op === 'pr') return '1';
    if (op === 'eq' || op === 'ne') {
      params.push(value, value);
      return op === 'eq'
        ? `(i.email_key = ? OR i.id IN (SELECT ie.identity_id FROM identity_emails ie WHERE ie.email_key = ?))`
        : `(i.email_key <> ? AND i.id NOT IN (SELECT ie.identity_id FROM identity_emails ie WHERE ie.email_key = ?))`;
    }
    const onRow = comparison('i.email_key', op, value, params);
    const elsewhere = comparison('ie.email_key', op, value, params);
    return `((substr(i.email_key, 1, 1) <> ' ' AND ${onRow}) OR EXISTS (SELECT 1 FROM identity_emails ie WHERE ie.identity_id = i.id AND ${elsewhere}))`;
  }
  if (!Object.hasOwn(COLUMNS, leaf.attr)) throw new Error(`unsupported identity filter attribute: ${String(leaf.attr)}`);
  // `active` as a literal: only `i.active = 0` (never a bound parameter) can use the partial index
  // of the deactivated (migration 11). The column is NOT NULL, so `<>` is the whole of `ne`.
  const sql =
    leaf.attr === 'active' && typeof value === 'boolean' && (op === 'eq' || op === 'ne')
      ? `i.active ${op === 'eq' ? '=' : '<>'} ${value ? 1 : 0}`
      : comparison(COLUMNS[leaf.attr], op, value, params);
  // Only under NOT can NULL differ from false; elsewhere the bare comparison keeps its index.
  return negated ? `IFNULL(${sql}, 0)` : sql;
}

/** SQL for a filter tree without `where` predicates (see candidateFilter). */
export function filterSql(filter: IdentityFilter, params: unknown[], negated = false): string {
  if ('where' in filter) throw new Error(`a predicate (${filter.describe}) cannot be answered in SQL`);
  if (isLeaf(filter)) return leafSql(filter, params, negated);
  if (filter.op === 'not') return `NOT (${filterSql(filter.filter, params, true)})`;
  // An empty conjunction holds for everyone, an empty disjunction for no one.
  if (filter.filters.length === 0) return filter.op === 'and' ? '1' : '0';
  const joiner = filter.op === 'and' ? ' AND ' : ' OR ';
  return `(${filter.filters.map((inner) => filterSql(inner, params, negated)).join(joiner)})`;
}

export function orderSql(sort: IdentityQuery['sort']): string {
  if (!sort) return 'ORDER BY i.seq';
  const column = SORT_COLUMNS[sort.attr];
  if (!column) throw new Error(`unsupported identity sort attribute: ${String(sort.attr)}`);
  // Unassigned values last (record-filter.ts sortRecords), ties in creation order.
  return `ORDER BY (${column} IS NULL OR ${column} = '') , ${column} ${sort.descending ? 'DESC' : 'ASC'}, i.seq`;
}

/** `filter` is the SQL-answerable part (candidateFilter); the rest of the query is always SQL. */
export function identityWhere(query: Omit<IdentityQuery, 'filter'> & { filter?: IdentityFilter | null }): SqlFragment {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (query.filter) {
    clauses.push(filterSql(query.filter, params));
  }
  if (query.status) {
    clauses.push(statusSql(query.status));
    if (query.status !== 'enrolled') params.push(query.now);
  }
  if (query.groupId !== undefined) {
    clauses.push('i.id IN (SELECT gm.identity_id FROM group_members gm WHERE gm.group_id = ?)');
    params.push(query.groupId);
  }
  if (query.search) {
    // A substring search cannot use an index; it runs over what the other clauses leave.
    clauses.push('instr(i.search_text, ?) > 0');
    params.push(foldCase(query.search));
  }
  if (query.role !== undefined) {
    clauses.push('EXISTS (SELECT 1 FROM json_each(i.roles) r WHERE r.value = ?)');
    params.push(query.role);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

function statusSql(status: EnrollmentStatus): string {
  switch (status) {
    case 'enrolled':
      return HAS_PASSKEY;
    case 'pending':
      return `(NOT ${HAS_PASSKEY} AND ${HAS_OPEN_INVITE})`;
    case 'unenrolled':
      return `(NOT ${HAS_PASSKEY} AND NOT ${HAS_OPEN_INVITE})`;
    default:
      throw new Error(`unknown enrollment status: ${String(status)}`);
  }
}
