/**
 * Translates an IdentityQuery into a parameterized WHERE clause over the identities table (alias i).
 * - Values only ever travel as bound parameters; attribute names come from a fixed whitelist.
 * - userName and email compare case-insensitively (SCIM caseExact=false, RFC 7643 §4.1), through
 *   the *_key columns (NFKC + case fold in JS, identity-keys.ts); the other attributes are exact.
 * - Enrollment status is derived with EXISTS over passkeys and invites, never stored, so it cannot
 *   drift from the records it summarizes.
 */
import { emailKey, userNameKey } from '../../server/ports/identity-keys.ts';
import type { EnrollmentStatus, IdentityFilter, IdentityQuery } from '../../server/ports/storage.ts';

export const HAS_PASSKEY = 'EXISTS (SELECT 1 FROM passkeys p WHERE p.identity_id = i.id)';
/** One bound parameter: now. An invite keeps an identity pending while it could still be spent. */
export const HAS_OPEN_INVITE = `EXISTS (SELECT 1 FROM invites v WHERE v.identity_id = i.id
  AND v.spent_at IS NULL AND v.revoked_at IS NULL AND v.expires_at > ?)`;

export const foldCase = (value: string): string => value.toLowerCase();

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

export function identityWhere(query: IdentityQuery): SqlFragment {
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
    // IN rather than EXISTS: SQLite can then start from the group's members instead of every identity.
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

function filterSql(filter: IdentityFilter, params: unknown[]): string {
  if ('op' in filter) {
    // An empty conjunction holds for everyone, an empty disjunction for no one.
    if (filter.filters.length === 0) return filter.op === 'and' ? '1' : '0';
    const joiner = filter.op === 'and' ? ' AND ' : ' OR ';
    return `(${filter.filters.map((inner) => filterSql(inner, params)).join(joiner)})`;
  }
  const { attr, value } = filter;
  switch (attr) {
    case 'id':
      params.push(String(value));
      return 'i.id = ?';
    case 'userName':
      params.push(userNameKey(String(value)));
      return 'i.user_name_key = ?';
    case 'email':
      params.push(emailKey(String(value)));
      return 'i.email_key = ?';
    case 'externalId':
      params.push(String(value));
      return 'i.external_id = ?';
    case 'oktaUserId':
      params.push(String(value));
      return 'i.okta_user_id = ?';
    case 'active':
      params.push(value === true || value === 'true' ? 1 : 0);
      return 'i.active = ?';
    default:
      throw new Error(`unsupported identity filter attribute: ${String(attr)}`);
  }
}
