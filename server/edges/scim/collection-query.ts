/**
 * List queries (RFC 7644 §3.4.2): `filter`, `startIndex`, `count`, and the ListResponse. Rules:
 * - the filter grammar is parsed by scim2-parse-filter, then translated into the storage port's
 *   equality trees, so every supported filter is answered from an index (SQLite index, Redis index
 *   key), never by loading every identity;
 * - anything those indexes cannot answer (co, sw, gt, pr, not, other attributes) is 400
 *   invalidFilter saying what is supported, never silently widened to "everything";
 * - attribute names are case-insensitive and may carry the core schema URN (RFC 7644 §3.10);
 * - startIndex is 1-based (below 1 means 1), count is capped at MAX_RESULTS (negative means 0);
 *   both must be integers or the request is 400 invalidValue (RFC 7644 §3.4.2.4).
 */
import { parse, type Filter } from 'scim2-parse-filter';
import type { GroupFilter, GroupFilterAttr, IdentityFilter, IdentityFilterAttr } from '../../ports/storage.ts';
import { scimError } from './scim-errors.ts';
import { DEFAULT_COUNT, MAX_RESULTS, URN } from './scim-schemas.ts';

type EqualityTree<A extends string, V> = { attr: A; value: V } | { op: 'and' | 'or'; filters: EqualityTree<A, V>[] };

interface Dialect<A extends string, V> {
  resource: string;
  schemaUrn: string;
  /** lowercased attribute path (as in `emails.value`) -> port attribute. */
  attributes: Record<string, A>;
  /** lowercased multi-valued attribute -> port attribute its `[value eq ...]` filter means. */
  valueFilters: Record<string, A>;
  value(attr: A, compValue: unknown, attrPath: string): V;
}

function stringValue(compValue: unknown, attrPath: string): string {
  if (typeof compValue === 'string') return compValue;
  if (typeof compValue === 'number' || typeof compValue === 'boolean') return String(compValue);
  throw scimError.badRequest('invalidFilter', `${attrPath} must be compared with a quoted string, got ${String(compValue)}`);
}

const userDialect: Dialect<IdentityFilterAttr, string | boolean> = {
  resource: 'Users',
  schemaUrn: URN.user,
  attributes: { id: 'id', username: 'userName', externalid: 'externalId', active: 'active', 'emails.value': 'email' },
  valueFilters: { emails: 'email' },
  value(attr, compValue, attrPath) {
    if (attr !== 'active') return stringValue(compValue, attrPath);
    if (typeof compValue === 'boolean') return compValue;
    if (typeof compValue === 'string' && /^(true|false)$/i.test(compValue)) return compValue.toLowerCase() === 'true';
    throw scimError.badRequest('invalidFilter', `active must be compared with true or false, got ${JSON.stringify(compValue)}`);
  },
};

const groupDialect: Dialect<GroupFilterAttr, string> = {
  resource: 'Groups',
  schemaUrn: URN.group,
  attributes: { id: 'id', displayname: 'displayName', externalid: 'externalId', 'members.value': 'member' },
  valueFilters: { members: 'member' },
  value: (_attr, compValue, attrPath) => stringValue(compValue, attrPath),
};

function supported<A extends string, V>(dialect: Dialect<A, V>): string {
  const names = Object.keys(dialect.attributes).map((name) => `"${name}"`);
  const valueFilters = Object.keys(dialect.valueFilters).map((name) => `"${name}[value eq ...]"`);
  return `/${dialect.resource} supports only "eq" on ${[...names, ...valueFilters].join(', ')}, combined with "and"/"or"`;
}

function withoutSchema(attrPath: string, schemaUrn: string): string {
  const prefix = `${schemaUrn.toLowerCase()}:`;
  const lower = attrPath.toLowerCase();
  return lower.startsWith(prefix) ? lower.slice(prefix.length) : lower;
}

function translate<A extends string, V>(node: Filter, dialect: Dialect<A, V>): EqualityTree<A, V> {
  switch (node.op) {
    case 'and':
    case 'or':
      return { op: node.op, filters: node.filters.map((inner) => translate(inner, dialect)) };
    case 'eq': {
      const path = withoutSchema(node.attrPath, dialect.schemaUrn);
      const attr = dialect.attributes[path];
      if (!attr) throw scimError.badRequest('invalidFilter', `cannot filter on "${node.attrPath}": ${supported(dialect)}`);
      if (node.compValue === null) throw scimError.badRequest('invalidFilter', `"${node.attrPath} eq null" is not supported; use a value`);
      return { attr, value: dialect.value(attr, node.compValue, node.attrPath) };
    }
    case '[]': {
      const attr = dialect.valueFilters[withoutSchema(node.attrPath, dialect.schemaUrn)];
      const inner = node.valFilter;
      if (!attr || inner.op !== 'eq' || inner.attrPath.toLowerCase() !== 'value') {
        throw scimError.badRequest('invalidFilter', `cannot filter on "${node.attrPath}[...]" with that value filter: ${supported(dialect)}`);
      }
      if (inner.compValue === null) throw scimError.badRequest('invalidFilter', `"${node.attrPath}[value eq null]" is not supported; use a value`);
      return { attr, value: dialect.value(attr, inner.compValue, `${node.attrPath}.value`) };
    }
    default: {
      const what = 'attrPath' in node ? `"${node.attrPath} ${node.op}"` : `"${node.op}"`;
      throw scimError.badRequest('invalidFilter', `operator ${what} is not supported: ${supported(dialect)}`);
    }
  }
}

function parseFilter(text: unknown): Filter | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== 'string') throw scimError.badRequest('invalidFilter', 'give "filter" once');
  if (text.trim() === '') return undefined;
  if (text.length > 2000) throw scimError.badRequest('invalidFilter', 'filter is longer than 2000 characters');
  try {
    return parse(text);
  } catch (error) {
    throw scimError.badRequest('invalidFilter', `filter ${JSON.stringify(text)} does not parse (${(error as Error).message}); expected e.g. userName eq "jane@example.com" (RFC 7644 §3.4.2.2)`);
  }
}

export function userFilterOf(text: unknown): IdentityFilter | undefined {
  const parsed = parseFilter(text);
  return parsed ? translate(parsed, userDialect) : undefined;
}

export function groupFilterOf(text: unknown): GroupFilter | undefined {
  const parsed = parseFilter(text);
  return parsed ? translate(parsed, groupDialect) : undefined;
}

export interface Paging {
  startIndex: number;
  count: number;
  /** For the storage port: 0-based. */
  offset: number;
}

function integerParameter(query: Record<string, unknown>, name: string, fallback: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw !== 'string' || !/^[+-]?\d+$/.test(raw.trim())) {
    throw scimError.badRequest('invalidValue', `${name} must be an integer, got ${JSON.stringify(raw)}`);
  }
  return Number(raw.trim());
}

export function pagingOf(query: Record<string, unknown>): Paging {
  const startIndex = Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, integerParameter(query, 'startIndex', 1)));
  const count = Math.min(MAX_RESULTS, Math.max(0, integerParameter(query, 'count', DEFAULT_COUNT)));
  return { startIndex, count, offset: startIndex - 1 };
}

export function listResponse(resources: unknown[], totalResults: number, paging: Paging) {
  return { schemas: [URN.listResponse], totalResults, startIndex: paging.startIndex, itemsPerPage: resources.length, Resources: resources };
}

/** `excludedAttributes=members` (or `attributes` without it) lets a client skip a large member list. */
export function excludes(query: Record<string, unknown>, attribute: string): boolean {
  const list = (name: string) => (typeof query[name] === 'string' ? (query[name] as string).split(',').map((item) => item.trim().toLowerCase()) : null);
  const excluded = list('excludedAttributes');
  const included = list('attributes');
  const name = attribute.toLowerCase();
  return Boolean(excluded?.includes(name) || (included && !included.includes(name)));
}
