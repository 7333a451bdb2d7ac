/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) on every response that carries
 * a resource: GET by id, lists, searches, and the answers to POST, PUT and PATCH. Rules:
 * - names are case-insensitive, may carry the schema URN, and may name a sub-attribute
 *   (`name.givenName`, `emails.value`): then only that part of the attribute is kept or dropped;
 * - `returned: always` attributes (id, schemas) are kept whatever the lists say, `never` ones are
 *   never sent, `request` ones only when named in `attributes` (RFC 7643 §7);
 * - `attributes` replaces the default set; `excludedAttributes` removes from it.
 */
import { scimError } from './scim-errors.ts';
import { findAttribute, resourceAttributes, type AttributeDefinition, type ResourceSchema } from './scim-schemas.ts';

export interface Projection {
  /** Lowercased paths ("name", "name.givenname"); null when the parameter was not given. */
  attributes: string[] | null;
  excluded: string[];
}

function paths(raw: unknown, schemaUrn: string, parameter: string): string[] | null {
  if (raw === undefined || raw === null) return null;
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
  if (!items || items.some((item) => typeof item !== 'string')) {
    throw scimError.badRequest('invalidValue', `${parameter} must be a comma-separated list of attribute names, got ${JSON.stringify(raw)}`);
  }
  const prefix = `${schemaUrn.toLowerCase()}:`;
  return (items as string[])
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '')
    .map((item) => (item.startsWith(prefix) ? item.slice(prefix.length) : item));
}

/** From a query string (GET) or a SearchRequest body (POST .search); both use the same names. */
export function projectionOf(source: Record<string, unknown>, schemaUrn: string): Projection {
  return { attributes: paths(source.attributes, schemaUrn, 'attributes'), excluded: paths(source.excludedAttributes, schemaUrn, 'excludedAttributes') ?? [] };
}

export const NO_PROJECTION: Projection = { attributes: null, excluded: [] };

type Decision = { keep: 'all' } | { keep: 'none' } | { keep: 'some'; only: Set<string> | null; drop: Set<string> };

function decide(definition: AttributeDefinition, projection: Projection): Decision {
  if (definition.returned === 'never') return { keep: 'none' };
  if (definition.returned === 'always') return { keep: 'all' };
  const name = definition.name.toLowerCase();
  const subsIn = (list: string[]) => new Set(list.filter((path) => path.startsWith(`${name}.`)).map((path) => path.slice(name.length + 1)));
  const drop = projection.excluded.includes(name) ? null : subsIn(projection.excluded);
  if (drop === null) return { keep: 'none' };
  if (projection.attributes) {
    if (projection.attributes.includes(name)) return { keep: 'some', only: null, drop };
    const only = subsIn(projection.attributes);
    return only.size > 0 ? { keep: 'some', only, drop } : { keep: 'none' };
  }
  if (definition.returned === 'request') return { keep: 'none' };
  return { keep: 'some', only: null, drop };
}

/** Whether a response will carry `attribute` at all (lets a route skip loading a member list). */
export function wants(schema: ResourceSchema, projection: Projection, attribute: string): boolean {
  const definition = findAttribute(resourceAttributes(schema), attribute);
  return definition ? decide(definition, projection).keep !== 'none' : false;
}

function trim(value: Record<string, unknown>, definition: AttributeDefinition, only: Set<string> | null, drop: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const sub = findAttribute(definition.subAttributes ?? [], key);
    const lower = key.toLowerCase();
    if (sub?.returned === 'never') continue;
    if (sub?.returned !== 'always' && ((only && !only.has(lower)) || drop.has(lower))) continue;
    out[key] = inner;
  }
  return out;
}

export function project<T extends object>(resource: T, schema: ResourceSchema, projection: Projection): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const definition of resourceAttributes(schema)) {
    const value = (resource as Record<string, unknown>)[definition.name];
    // An empty complex value is unassigned (RFC 7643 §2.5): not returned.
    if (value === undefined || (definition.type === 'complex' && !Array.isArray(value) && Object.keys(value as object).length === 0)) continue;
    const decision = decide(definition, projection);
    if (decision.keep === 'none') continue;
    if (decision.keep === 'all' || (decision.only === null && decision.drop.size === 0) || definition.type !== 'complex') {
      out[definition.name] = value;
      continue;
    }
    const { only, drop } = decision;
    if (Array.isArray(value)) {
      out[definition.name] = value.map((item) => trim(item as Record<string, unknown>, definition, only, drop));
    } else {
      const trimmed = trim(value as Record<string, unknown>, definition, only, drop);
      if (Object.keys(trimmed).length > 0) out[definition.name] = trimmed;
    }
  }
  return out as Partial<T>;
}
