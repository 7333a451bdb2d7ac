/**
 * What a filter tree (storage.ts RecordFilter) means, said once for every adapter. Rules:
 * - a leaf compares one attribute: eq ne co sw ew gt ge lt le pr (RFC 7644 §3.4.2.2 semantics);
 *   case-insensitive attributes are compared through caseKey, on both sides;
 * - an unassigned attribute matches only `ne` (and `not (… pr)`); a multi-valued one (an
 *   identity's email addresses) matches when any value does, `ne` when none is equal;
 * - adapters answer the parts their indexes can (candidateFilter) and evaluate the whole tree
 *   here over the candidates, so both stores give the same answer to every filter;
 * - sorting (§3.4.2.3): case-insensitive strings by caseKey, unassigned values last, ties in
 *   creation order (the candidates arrive in that order and Array.sort is stable).
 */
import type {
  FilterOperator,
  FilterValue,
  GroupFilterAttr,
  GroupRecord,
  IdentityFilterAttr,
  IdentityRecord,
  RecordFilter,
  SortOrder,
} from './storage.ts';

/** The comparison form of a case-insensitive string (RFC 7643 §2.4 caseExact=false). */
export const caseKey = (value: string): string => value.toLowerCase();

type Scalar = string | number | boolean | null;
export type Leaf<A extends string> = { attr: A; op?: FilterOperator; value?: FilterValue };

export const isLeaf = <A extends string, R>(filter: RecordFilter<A, R>): filter is Leaf<A> => 'attr' in filter;

/** Every address of an identity: the primary `email` and the SCIM emails[] kept in attributes. */
export function addressesOf(identity: Pick<IdentityRecord, 'email' | 'attributes'>): string[] {
  const stored = Array.isArray(identity.attributes.emails) ? (identity.attributes.emails as { value?: unknown }[]) : [];
  const all = [identity.email, ...stored.map((email) => email?.value).filter((value): value is string => typeof value === 'string')];
  return [...new Set(all.map(caseKey))];
}

const FOLDED_IDENTITY = new Set<IdentityFilterAttr>(['userName', 'email', 'displayName', 'givenName', 'familyName', 'locale']);

export function identityValue(identity: IdentityRecord, attr: IdentityFilterAttr): Scalar | string[] {
  switch (attr) {
    case 'email':
      return addressesOf(identity);
    case 'userName':
    case 'displayName':
    case 'givenName':
    case 'familyName':
    case 'locale': {
      const value = identity[attr];
      return value === null ? null : caseKey(value);
    }
    case 'group':
      return null;
    default:
      return identity[attr];
  }
}

export function groupValue(group: GroupRecord, attr: GroupFilterAttr): Scalar {
  if (attr === 'displayName') return caseKey(group.displayName);
  if (attr === 'member') return null;
  return group[attr];
}

/** The filter's comparison value, folded when the attribute compares case-insensitively. */
export function identityOperand(attr: IdentityFilterAttr, value: FilterValue | undefined): FilterValue | undefined {
  return typeof value === 'string' && FOLDED_IDENTITY.has(attr) ? caseKey(value) : value;
}
export function groupOperand(attr: GroupFilterAttr, value: FilterValue | undefined): FilterValue | undefined {
  return typeof value === 'string' && attr === 'displayName' ? caseKey(value) : value;
}

function compareOne(op: FilterOperator, actual: Scalar, expected: FilterValue | undefined): boolean {
  if (op === 'pr') return actual !== null && actual !== '';
  if (actual === null || expected === undefined) return op === 'ne';
  if (op === 'eq') return actual === expected;
  if (op === 'ne') return actual !== expected;
  if (typeof actual === 'string' && typeof expected === 'string') {
    if (op === 'co') return actual.includes(expected);
    if (op === 'sw') return actual.startsWith(expected);
    if (op === 'ew') return actual.endsWith(expected);
  }
  if (typeof actual !== typeof expected || typeof actual === 'boolean') return false;
  if (op === 'gt') return actual > expected;
  if (op === 'ge') return actual >= expected;
  if (op === 'lt') return actual < expected;
  if (op === 'le') return actual <= expected;
  return false;
}

export function compareLeaf(op: FilterOperator, actual: Scalar | string[], expected: FilterValue | undefined): boolean {
  if (!Array.isArray(actual)) return compareOne(op, actual, expected);
  if (op === 'pr') return actual.length > 0;
  if (op === 'ne') return !actual.some((value) => compareOne('eq', value, expected));
  return actual.some((value) => compareOne(op, value, expected));
}

/**
 * Evaluates `filter` on one record. `leaf` answers a leaf; memberships (group/member) are
 * answered by `related`, the ids related to the leaf's value, fetched by the adapter beforehand.
 */
export function matches<A extends string, R>(filter: RecordFilter<A, R>, record: R, leaf: (leaf: Leaf<A>, record: R) => boolean): boolean {
  if ('where' in filter) return filter.where(record);
  if (isLeaf(filter)) return leaf(filter, record);
  if (filter.op === 'not') return !matches(filter.filter, record, leaf);
  if (filter.op === 'and') return filter.filters.every((inner) => matches(inner, record, leaf));
  return filter.filters.some((inner) => matches(inner, record, leaf));
}

/** The values of every leaf on `attr` (e.g. the group ids a filter asks membership of). */
export function leafValues<A extends string, R>(filter: RecordFilter<A, R> | undefined, attr: A): string[] {
  if (!filter || 'where' in filter) return [];
  if (isLeaf(filter)) return filter.attr === attr && typeof filter.value === 'string' ? [filter.value] : [];
  if (filter.op === 'not') return leafValues(filter.filter, attr);
  return filter.filters.flatMap((inner) => leafValues(inner, attr));
}

/** Related ids per membership leaf value: group id -> member ids, or identity id -> group ids. */
export type Related = Map<string, Set<string>>;

export function matchesIdentity(filter: RecordFilter<IdentityFilterAttr, IdentityRecord>, identity: IdentityRecord, related: Related): boolean {
  return matches(filter, identity, (leaf, record) => {
    const op = leaf.op ?? 'eq';
    if (leaf.attr === 'group') {
      const member = related.get(String(leaf.value))?.has(record.id) ?? false;
      return op === 'ne' ? !member : member;
    }
    return compareLeaf(op, identityValue(record, leaf.attr), identityOperand(leaf.attr, leaf.value));
  });
}

export function matchesGroup(filter: RecordFilter<GroupFilterAttr, GroupRecord>, group: GroupRecord, related: Related): boolean {
  return matches(filter, group, (leaf, record) => {
    const op = leaf.op ?? 'eq';
    if (leaf.attr === 'member') {
      const member = related.get(String(leaf.value))?.has(record.id) ?? false;
      return op === 'ne' ? !member : member;
    }
    return compareLeaf(op, groupValue(record, leaf.attr), groupOperand(leaf.attr, leaf.value));
  });
}

/**
 * The part of `filter` an adapter's indexes can answer: a tree of indexable leaves that holds
 * for every match (null: no narrowing, every record is a candidate). `exact` means it holds for
 * the matches only, so the whole filter need not be evaluated in memory.
 */
export function candidateFilter<A extends string, R>(
  filter: RecordFilter<A, R>,
  indexable: (leaf: Leaf<A>) => boolean,
): { filter: RecordFilter<A, R> | null; exact: boolean } {
  if ('where' in filter) return { filter: null, exact: false };
  if (isLeaf(filter)) return indexable(filter) ? { filter, exact: true } : { filter: null, exact: false };
  if (filter.op === 'not') {
    const inner = candidateFilter(filter.filter, indexable);
    return inner.exact && inner.filter ? { filter: { op: 'not', filter: inner.filter }, exact: true } : { filter: null, exact: false };
  }
  const parts = filter.filters.map((inner) => candidateFilter(inner, indexable));
  const exact = parts.every((part) => part.exact);
  if (filter.op === 'or') {
    if (parts.some((part) => part.filter === null)) return { filter: null, exact: false };
    return { filter: { op: 'or', filters: parts.map((part) => part.filter!) }, exact };
  }
  const kept = parts.map((part) => part.filter).filter((part): part is RecordFilter<A, R> => part !== null);
  if (kept.length === 0) return { filter: parts.length === 0 ? filter : null, exact: exact };
  return { filter: kept.length === 1 ? kept[0] : { op: 'and', filters: kept }, exact };
}

function sortKey(value: Scalar | string[]): Scalar {
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** Sorts in place: by the attribute's comparison form, unassigned last, stable otherwise. */
export function sortRecords<A extends string, R>(records: R[], sort: SortOrder<A>, valueOf: (record: R, attr: A) => Scalar | string[]): R[] {
  const direction = sort.descending ? -1 : 1;
  const keyed = records.map((record) => ({ record, key: sortKey(valueOf(record, sort.attr)) }));
  keyed.sort((a, b) => {
    if (a.key === b.key) return 0;
    if (a.key === null || a.key === '') return 1;
    if (b.key === null || b.key === '') return -1;
    return (a.key < b.key ? -1 : 1) * direction;
  });
  return keyed.map((entry) => entry.record);
}

/** The primary address sorts an identity by email (§3.4.2.3: the primary value of a multi-valued attribute). */
export function identitySortValue(identity: IdentityRecord, attr: IdentityFilterAttr): Scalar {
  if (attr === 'email') return caseKey(identity.email);
  const value = identityValue(identity, attr);
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
