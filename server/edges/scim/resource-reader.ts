/**
 * Reads a User or Group body (POST, PUT, or the result of a PATCH) against the one schema
 * definition in scim-schemas.ts, so the served /Schemas and what is enforced cannot differ. Rules:
 * - attribute names are case-insensitive and may carry the schema URN (RFC 7643 §2.1, §3.3);
 * - `schemas` must name the resource's core schema (RFC 7643 §3);
 * - every attribute and sub-attribute is checked against its type, multiValued and
 *   canonicalValues; a required one that is missing, null or blank is 400 invalidValue;
 * - readOnly attributes and sub-attributes are ignored on input (RFC 7644 §3.3, §3.5.1), as are
 *   attributes no schema defines: Okta sends more than an IdP keeps;
 * - a multi-valued attribute has at most one `primary: true` value (RFC 7643 §2.4).
 */
import { scimError } from './scim-errors.ts';
import { canonicalize, type AttributeDefinition, type AttributeTree, type ResourceSchema } from './scim-schemas.ts';

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Absent, null, or a blank string: the attribute is unassigned (RFC 7643 §2.5). */
export const isUnassigned = (value: unknown): boolean =>
  value === undefined || value === null || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0);

function readScalar(definition: AttributeDefinition, value: unknown, path: string): unknown {
  switch (definition.type) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      // "true"/"false" strings are accepted too: some clients send them.
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      throw scimError.badRequest('invalidValue', `${path} must be true or false, got ${describe(value)}`);
    case 'dateTime':
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
      throw scimError.badRequest('invalidValue', `${path} must be an xsd:dateTime string, got ${describe(value)}`);
    default: {
      if (typeof value !== 'string') throw scimError.badRequest('invalidValue', `${path} must be a string, got ${describe(value)}`);
      const text = value;
      if (definition.canonicalValues) {
        const allowed = definition.canonicalValues.find((canonical) => (definition.caseExact ? canonical === text : canonical.toLowerCase() === text.toLowerCase()));
        if (!allowed) throw scimError.badRequest('invalidValue', `${path} must be one of ${definition.canonicalValues.map((item) => `"${item}"`).join(', ')}, got ${describe(value)}`);
        return allowed;
      }
      return text;
    }
  }
}

function readComplex(definition: AttributeDefinition, value: unknown, path: string): Record<string, unknown> {
  if (!isObject(value)) {
    const example = `{${(definition.subAttributes ?? []).filter((sub) => sub.mutability !== 'readOnly').map((sub) => `"${sub.name}"`).join(', ')}}`;
    throw scimError.badRequest('invalidValue', `${path} must be an object like ${example}, got ${describe(value)}`);
  }
  const out: Record<string, unknown> = {};
  for (const sub of definition.subAttributes ?? []) {
    const inner = value[sub.name];
    if (sub.mutability === 'readOnly') continue;
    if (isUnassigned(inner)) {
      if (sub.required) throw scimError.badRequest('invalidValue', `${path}.${sub.name} is required, got ${describe(inner)}`);
      continue;
    }
    out[sub.name] = readScalar(sub, inner, `${path}.${sub.name}`);
  }
  return out;
}

function readValue(definition: AttributeDefinition, value: unknown, path: string): unknown {
  const one = (item: unknown, where: string) => (definition.type === 'complex' ? readComplex(definition, item, where) : readScalar(definition, item, where));
  if (!definition.multiValued) return one(value, path);
  if (!Array.isArray(value)) throw scimError.badRequest('invalidValue', `${path} must be an array (it is multi-valued), got ${describe(value)}`);
  const items = value.map((item, index) => one(item, `${path}[${index}]`));
  if (items.filter((item) => isObject(item) && item.primary === true).length > 1) {
    throw scimError.badRequest('invalidValue', `${path} has more than one value with "primary": true (RFC 7643 §2.4 allows one)`);
  }
  return items;
}

/**
 * The validated resource: only attributes the schema defines and a client may write, in their
 * canonical spelling, unassigned ones left out. `id`, when sent, is kept for the caller to compare.
 */
export function readResource(body: unknown, schema: ResourceSchema, tree: AttributeTree): Record<string, unknown> {
  const canonical = canonicalize(body, tree) as Record<string, unknown>;
  const schemas = canonical.schemas;
  if (!Array.isArray(schemas) || !schemas.some((item) => typeof item === 'string' && item.toLowerCase() === schema.id.toLowerCase())) {
    throw scimError.badRequest('invalidSyntax', `"schemas" must include "${schema.id}", got ${describe(schemas)}`);
  }
  const out: Record<string, unknown> = { schemas: [schema.id] };
  if (canonical.id !== undefined) out.id = canonical.id;
  for (const definition of schema.attributes) {
    const value = canonical[definition.name];
    if (definition.mutability === 'readOnly') continue;
    if (isUnassigned(value)) {
      if (definition.required) throw scimError.badRequest('invalidValue', `${definition.name} is required, got ${describe(value)}`);
      continue;
    }
    out[definition.name] = readValue(definition, value, definition.name);
  }
  return out;
}
