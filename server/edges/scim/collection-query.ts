/**
 * List queries (RFC 7644 §3.4.2): `filter`, `sortBy`/`sortOrder`, `startIndex`, `count`, and the
 * ListResponse, for GET and for POST .search (§3.4.3). Rules:
 * - the whole filter grammar (§3.4.2.2) is parsed by scim2-parse-filter and translated into the
 *   storage port's filter tree: eq ne co sw ew pr gt ge lt le, and or not, grouping, value paths;
 *   attributes the store keeps as fields (userName, emails.value, externalId, displayName, names,
 *   meta.created, meta.lastModified, group membership) become leaves its indexes answer; the rest
 *   (emails.type, name.formatted, a value path mixing sub-attributes) become predicates the store
 *   evaluates over the candidates the indexed parts leave;
 * - comparisons follow the attribute's type: case-insensitive strings (caseExact false), exact ids,
 *   booleans with eq/ne only, dateTimes as instants; a wrong operand is 400 invalidFilter;
 * - an attribute the resource does not have is 400 invalidFilter naming the ones it has; in a
 *   root /.search, where one filter is asked of every resource type, it simply matches nothing;
 * - startIndex is 1-based (below 1 means 1), count is capped at MAX_RESULTS (negative means 0);
 *   both must be integers or the request is 400 invalidValue (§3.4.2.4).
 */
import { parse, type Filter } from 'scim2-parse-filter';
import type {
  FilterOperator,
  FilterValue,
  GroupFilter,
  GroupFilterAttr,
  GroupSortAttr,
  IdentityFilter,
  IdentityFilterAttr,
  IdentityRecord,
  IdentitySortAttr,
  RecordFilter,
  SortOrder,
} from '../../ports/storage.ts';
import { scimError } from './scim-errors.ts';
import { matchesValue } from './patch-engine.ts';
import { DEFAULT_COUNT, GROUP_SCHEMA, MAX_RESULTS, URN, USER_SCHEMA, findAttribute, type AttributeDefinition } from './scim-schemas.ts';
import { emailsOf, formattedNameOf } from './user-resource.ts';

type Kind = 'string' | 'caseExact' | 'boolean' | 'dateTime';
type Mapping<A extends string> = { attr: A; kind: Kind };

interface Dialect<A extends string, R> {
  resource: string;
  schemaUrn: string;
  /** lowercased attribute path -> port attribute. */
  attributes: Record<string, Mapping<A>>;
  /** Membership attributes: eq / ne on their value only. */
  membership: { paths: string[]; attr: A } | null;
  /** Attributes answered by a predicate over the resource (lowercased path -> values of it). */
  predicates: Record<string, { definition: AttributeDefinition; valuesOf: (record: R) => Record<string, unknown>[]; sub?: string }>;
  /** What `meta.resourceType eq "..."` is compared with. */
  resourceType: string;
  /** true in a root /.search: an unknown attribute matches nothing instead of failing. */
  lenient?: boolean;
}

const emailsDefinition = findAttribute(USER_SCHEMA.attributes, 'emails')!;
const nameDefinition = findAttribute(USER_SCHEMA.attributes, 'name')!;
const identityEmails = (identity: IdentityRecord) => emailsOf(identity) as unknown as Record<string, unknown>[];

export const userDialect: Dialect<IdentityFilterAttr, IdentityRecord> = {
  resource: 'Users',
  schemaUrn: URN.user,
  attributes: {
    id: { attr: 'id', kind: 'caseExact' },
    externalid: { attr: 'externalId', kind: 'caseExact' },
    username: { attr: 'userName', kind: 'string' },
    displayname: { attr: 'displayName', kind: 'string' },
    'name.givenname': { attr: 'givenName', kind: 'string' },
    'name.familyname': { attr: 'familyName', kind: 'string' },
    locale: { attr: 'locale', kind: 'string' },
    active: { attr: 'active', kind: 'boolean' },
    emails: { attr: 'email', kind: 'string' },
    'emails.value': { attr: 'email', kind: 'string' },
    'meta.created': { attr: 'createdAt', kind: 'dateTime' },
    'meta.lastmodified': { attr: 'updatedAt', kind: 'dateTime' },
  },
  membership: { paths: ['groups', 'groups.value'], attr: 'group' },
  predicates: {
    'emails.type': { definition: emailsDefinition, valuesOf: identityEmails, sub: 'type' },
    'emails.primary': { definition: emailsDefinition, valuesOf: identityEmails, sub: 'primary' },
    'name.formatted': { definition: nameDefinition, valuesOf: (identity) => [{ formatted: formattedNameOf(identity) || null }], sub: 'formatted' },
  },
  resourceType: 'User',
};

export const groupDialect: Dialect<GroupFilterAttr, never> = {
  resource: 'Groups',
  schemaUrn: URN.group,
  attributes: {
    id: { attr: 'id', kind: 'caseExact' },
    externalid: { attr: 'externalId', kind: 'caseExact' },
    displayname: { attr: 'displayName', kind: 'string' },
    'meta.created': { attr: 'createdAt', kind: 'dateTime' },
    'meta.lastmodified': { attr: 'updatedAt', kind: 'dateTime' },
  },
  membership: { paths: ['members', 'members.value'], attr: 'member' },
  predicates: {},
  resourceType: 'Group',
};

const NOTHING = { op: 'or', filters: [] } as const;
const EVERYTHING = { op: 'and', filters: [] } as const;

function supported<A extends string, R>(dialect: Dialect<A, R>): string {
  const names = [...Object.keys(dialect.attributes), ...Object.keys(dialect.predicates), ...(dialect.membership?.paths ?? []), 'meta.resourceType'];
  return `/${dialect.resource} filters on ${names.map((name) => `"${name}"`).join(', ')} (case-insensitive), with eq ne co sw ew pr gt ge lt le, and/or/not, and value paths like emails[type eq "work"]`;
}

function withoutSchema(attrPath: string, schemaUrn: string): string {
  const prefix = `${schemaUrn.toLowerCase()}:`;
  const lower = attrPath.toLowerCase();
  return lower.startsWith(prefix) ? lower.slice(prefix.length) : lower;
}

function operand(kind: Kind, op: FilterOperator, compValue: unknown, attrPath: string): FilterValue | undefined {
  if (op === 'pr') return undefined;
  if (kind === 'boolean') {
    if (op !== 'eq' && op !== 'ne') throw scimError.badRequest('invalidFilter', `${attrPath} is a boolean: only eq and ne apply, not ${op}`);
    if (typeof compValue === 'boolean') return compValue;
    if (typeof compValue === 'string' && /^(true|false)$/i.test(compValue)) return compValue.toLowerCase() === 'true';
    throw scimError.badRequest('invalidFilter', `${attrPath} must be compared with true or false, got ${JSON.stringify(compValue)}`);
  }
  if (kind === 'dateTime') {
    if (op === 'co' || op === 'sw' || op === 'ew') throw scimError.badRequest('invalidFilter', `${attrPath} is a dateTime: use eq ne gt ge lt le or pr, not ${op}`);
    const at = typeof compValue === 'string' ? Date.parse(compValue) : Number.NaN;
    if (Number.isNaN(at)) throw scimError.badRequest('invalidFilter', `${attrPath} must be compared with an xsd:dateTime such as "2026-01-31T12:00:00Z", got ${JSON.stringify(compValue)}`);
    return at;
  }
  if (typeof compValue === 'string') return compValue;
  if (typeof compValue === 'number' || typeof compValue === 'boolean') return String(compValue);
  throw scimError.badRequest('invalidFilter', `${attrPath} must be compared with a quoted string, got ${String(compValue)}`);
}

function unknownAttribute<A extends string, R>(dialect: Dialect<A, R>, attrPath: string): RecordFilter<A, R> {
  if (dialect.lenient) return NOTHING as unknown as RecordFilter<A, R>;
  throw scimError.badRequest('invalidFilter', `cannot filter on "${attrPath}": ${supported(dialect)}`);
}

function predicate<A extends string, R>(dialect: Dialect<A, R>, path: string, test: Filter, text: string): RecordFilter<A, R> {
  const entry = dialect.predicates[path];
  return { where: (record: R) => entry.valuesOf(record).some((value) => matchesValue(test, value, entry.definition)), describe: text };
}

function translate<A extends string, R>(node: Filter, dialect: Dialect<A, R>): RecordFilter<A, R> {
  switch (node.op) {
    case 'and':
    case 'or':
      return { op: node.op, filters: node.filters.map((inner) => translate(inner, dialect)) };
    case 'not':
      return { op: 'not', filter: translate(node.filter, dialect) };
    case '[]': {
      const path = withoutSchema(node.attrPath, dialect.schemaUrn);
      // A value path on the membership attribute, or one asking only about `value`, is the same
      // as the attribute's `.value` (RFC 7644 §3.4.2.2: emails[value eq "x"] = emails.value eq "x").
      if (onlyAbout(node.valFilter, 'value') && (dialect.membership?.paths.includes(path) || dialect.attributes[`${path}.value`])) {
        return translate(prefixed(node.valFilter, path), dialect);
      }
      const definition = path === 'emails' && dialect.resourceType === 'User' ? emailsDefinition : undefined;
      if (!definition) return unknownAttribute(dialect, `${node.attrPath}[...]`);
      checkSubAttributes(node.valFilter, definition, node.attrPath);
      const valuesOf = identityEmails as unknown as (record: R) => Record<string, unknown>[];
      return { where: (record: R) => valuesOf(record).some((value) => matchesValue(node.valFilter, value, definition)), describe: `${node.attrPath}[...]` };
    }
    default: {
      const path = withoutSchema(node.attrPath, dialect.schemaUrn);
      const op = node.op as FilterOperator;
      const compValue = op === 'pr' ? undefined : (node as { compValue: unknown }).compValue;
      if (op !== 'pr' && compValue === null) {
        // `attr eq null` asks for an unassigned attribute (RFC 7643 §2.5).
        if (op === 'eq') return { op: 'not', filter: translate({ op: 'pr', attrPath: node.attrPath }, dialect) };
        if (op === 'ne') return translate({ op: 'pr', attrPath: node.attrPath }, dialect);
        throw scimError.badRequest('invalidFilter', `"${node.attrPath} ${op} null" has no meaning; compare with a value`);
      }
      if (path === 'meta.resourcetype') {
        if (op === 'pr') return EVERYTHING as unknown as RecordFilter<A, R>;
        const same = typeof compValue === 'string' && compValue.toLowerCase() === dialect.resourceType.toLowerCase();
        if (op !== 'eq' && op !== 'ne') throw scimError.badRequest('invalidFilter', `meta.resourceType takes eq or ne, not ${op}`);
        return ((op === 'eq') === same ? EVERYTHING : NOTHING) as unknown as RecordFilter<A, R>;
      }
      if (dialect.membership?.paths.includes(path)) {
        if (op !== 'eq' && op !== 'ne') throw scimError.badRequest('invalidFilter', `${node.attrPath} takes eq or ne with a resource id, not ${op}`);
        return { attr: dialect.membership.attr, op, value: operand('caseExact', op, compValue, node.attrPath) };
      }
      const mapping = dialect.attributes[path];
      if (mapping) return { attr: mapping.attr, op, ...(op === 'pr' ? {} : { value: operand(mapping.kind, op, compValue, node.attrPath) }) };
      if (dialect.predicates[path]) {
        const sub = dialect.predicates[path].sub!;
        return predicate(dialect, path, { ...(node as object), attrPath: sub } as Filter, `${node.attrPath} ${op}`);
      }
      return unknownAttribute(dialect, node.attrPath);
    }
  }
}

function onlyAbout(filter: Filter, sub: string): boolean {
  if (filter.op === 'and' || filter.op === 'or') return filter.filters.every((inner) => onlyAbout(inner, sub));
  if (filter.op === 'not') return onlyAbout(filter.filter, sub);
  if (filter.op === '[]') return false;
  return (filter as { attrPath: string }).attrPath.toLowerCase() === sub;
}

function prefixed(filter: Filter, path: string): Filter {
  if (filter.op === 'and' || filter.op === 'or') return { ...filter, filters: filter.filters.map((inner) => prefixed(inner, path)) };
  if (filter.op === 'not') return { ...filter, filter: prefixed(filter.filter, path) };
  if (filter.op === '[]') return filter;
  return { ...filter, attrPath: `${path}.${(filter as { attrPath: string }).attrPath}` } as Filter;
}

function checkSubAttributes(filter: Filter, definition: AttributeDefinition, attrPath: string): void {
  if (filter.op === 'and' || filter.op === 'or') return filter.filters.forEach((inner) => checkSubAttributes(inner, definition, attrPath));
  if (filter.op === 'not') return checkSubAttributes(filter.filter, definition, attrPath);
  if (filter.op === '[]') throw scimError.badRequest('invalidFilter', `value paths cannot be nested in ${attrPath}[...]`);
  const name = (filter as { attrPath: string }).attrPath;
  if (!findAttribute(definition.subAttributes ?? [], name)) {
    throw scimError.badRequest('invalidFilter', `${attrPath} has no sub-attribute "${name}"; it has ${(definition.subAttributes ?? []).map((sub) => sub.name).join(', ')}`);
  }
}

export function parseFilter(text: unknown): Filter | undefined {
  if (text === undefined || text === null) return undefined;
  if (typeof text !== 'string') throw scimError.badRequest('invalidFilter', 'give "filter" once, as a string');
  if (text.trim() === '') return undefined;
  if (text.length > 2000) throw scimError.badRequest('invalidFilter', 'filter is longer than 2000 characters');
  try {
    return parse(text);
  } catch (error) {
    throw scimError.badRequest('invalidFilter', `filter ${JSON.stringify(text)} does not parse (${(error as Error).message}); expected e.g. userName eq "jane@example.com" (RFC 7644 §3.4.2.2)`);
  }
}

export function userFilterOf(parsed: Filter | undefined, lenient = false): IdentityFilter | undefined {
  return parsed ? translate(parsed, lenient ? { ...userDialect, lenient } : userDialect) : undefined;
}

export function groupFilterOf(parsed: Filter | undefined, lenient = false): GroupFilter | undefined {
  return parsed ? (translate(parsed, lenient ? { ...groupDialect, lenient } : groupDialect) as GroupFilter) : undefined;
}

// ------------------------------------------------------------------ sorting (§3.4.2.3)

const USER_SORT: Record<string, IdentitySortAttr> = {
  id: 'id', externalid: 'externalId', username: 'userName', displayname: 'displayName', 'name.givenname': 'givenName',
  'name.familyname': 'familyName', locale: 'locale', active: 'active', emails: 'email', 'emails.value': 'email',
  'meta.created': 'createdAt', 'meta.lastmodified': 'updatedAt',
};
const GROUP_SORT: Record<string, GroupSortAttr> = {
  id: 'id', externalid: 'externalId', displayname: 'displayName', 'meta.created': 'createdAt', 'meta.lastmodified': 'updatedAt',
};

function sortOf<A extends string>(source: Record<string, unknown>, schemaUrn: string, attributes: Record<string, A>, lenient: boolean): SortOrder<A> | undefined {
  const { sortBy, sortOrder } = source;
  if (sortOrder !== undefined && sortOrder !== null && (typeof sortOrder !== 'string' || !/^(ascending|descending)$/i.test(sortOrder))) {
    throw scimError.badRequest('invalidValue', `sortOrder must be "ascending" or "descending", got ${JSON.stringify(sortOrder)}`);
  }
  if (sortBy === undefined || sortBy === null || sortBy === '') return undefined;
  if (typeof sortBy !== 'string') throw scimError.badRequest('invalidValue', `sortBy must be one attribute name, got ${JSON.stringify(sortBy)}`);
  const attr = attributes[withoutSchema(sortBy.trim(), schemaUrn)];
  if (!attr) {
    if (lenient) return undefined;
    throw scimError.badRequest('invalidValue', `cannot sort by "${sortBy}"; sortBy takes one of ${Object.keys(attributes).map((name) => `"${name}"`).join(', ')}`);
  }
  return { attr, descending: typeof sortOrder === 'string' && sortOrder.toLowerCase() === 'descending' };
}

export const userSortOf = (source: Record<string, unknown>, lenient = false) => sortOf(source, URN.user, USER_SORT, lenient);
export const groupSortOf = (source: Record<string, unknown>, lenient = false) => sortOf(source, URN.group, GROUP_SORT, lenient);

// ------------------------------------------------------------------ paging (§3.4.2.4)

export interface Paging {
  startIndex: number;
  count: number;
  /** For the storage port: 0-based. */
  offset: number;
}

function integerParameter(source: Record<string, unknown>, name: string, fallback: number): number {
  const raw = source[name];
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  if (typeof raw !== 'string' || !/^[+-]?\d+$/.test(raw.trim())) {
    throw scimError.badRequest('invalidValue', `${name} must be an integer, got ${JSON.stringify(raw)}`);
  }
  return Number(raw.trim());
}

export function pagingOf(source: Record<string, unknown>): Paging {
  const startIndex = Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, integerParameter(source, 'startIndex', 1)));
  const count = Math.min(MAX_RESULTS, Math.max(0, integerParameter(source, 'count', DEFAULT_COUNT)));
  return { startIndex, count, offset: startIndex - 1 };
}

export function listResponse(resources: unknown[], totalResults: number, paging: Paging) {
  return { schemas: [URN.listResponse], totalResults, startIndex: paging.startIndex, itemsPerPage: resources.length, Resources: resources };
}

/** A SearchRequest body (§3.4.3): the query parameters as JSON members. */
export function readSearchRequest(body: unknown): Record<string, unknown> {
  const message = body as Record<string, unknown>;
  const schemas = message.schemas;
  if (!Array.isArray(schemas) || !schemas.some((schema) => typeof schema === 'string' && schema.toLowerCase() === URN.searchRequest.toLowerCase())) {
    throw scimError.badRequest('invalidSyntax', `"schemas" must be ["${URN.searchRequest}"], got ${JSON.stringify(schemas) ?? 'nothing'}`);
  }
  const known = ['attributes', 'excludedAttributes', 'filter', 'sortBy', 'sortOrder', 'startIndex', 'count'];
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    const name = known.find((candidate) => candidate.toLowerCase() === key.toLowerCase());
    if (name) out[name] = value;
  }
  return out;
}

export { GROUP_SCHEMA, USER_SCHEMA };
