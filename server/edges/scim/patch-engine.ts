/**
 * PATCH (RFC 7644 §3.5.2) as pure functions over an in-memory copy of the resource: the caller
 * validates the result with resource-reader.ts and writes it once with the version it read, so a
 * request lands whole or not at all. Why not scim-patch: it needed six workarounds and still
 * could not remove a whole multi-valued attribute or refuse a required target (issue 11).
 * Rules, by section:
 * - §3.5.2: op names in any case; paths are `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`,
 *   optionally prefixed by the core schema URN; anything else is 400 invalidPath. Attribute names
 *   inside a path-less value may be dotted (`{"name.givenName": "x"}`), as Entra ID sends them.
 * - §3.5.2.1 add: a missing target is created; multi-valued values are appended unless an equal
 *   value (by `value`, else whole) is already there; a complex value merges its sub-attributes; a
 *   filtered `attr[filter].sub` that matches nothing creates the value the filter's `eq` terms
 *   describe (`emails[type eq "work"].value`).
 * - §3.5.2.2 remove: a path is required (noTarget); no filter removes every value; a filter
 *   removes the matching values (none matching changes nothing: the values are already gone);
 *   `.sub` removes that sub-attribute; `remove members` with a value list removes those members.
 *   Removing a required or read-only attribute, or one that always has a value (`active`), is
 *   400 mutability, as is leaving a required multi-valued attribute empty.
 * - §3.5.2.3 replace: a missing target is added; a complex value replaces the sub-attributes it
 *   names and leaves the others; a filter that matches nothing is 400 noTarget.
 * - read-only attributes are 400 mutability (§3.5.2), unless a path-less value repeats the
 *   current value (Okta sends the group `id` along with a rename);
 * - setting `primary: true` on one value clears it on the others (RFC 7643 §2.4).
 */
import { parse, type Filter } from 'scim2-parse-filter';
import { compareLeaf } from '../../ports/record-filter.ts';
import { ScimError, scimError } from './scim-errors.ts';
import { describe } from './resource-reader.ts';
import { canonicalize, findAttribute, resourceAttributes, type AttributeDefinition, type AttributeTree, type ResourceSchema } from './scim-schemas.ts';

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: unknown;
  /** Position in the request's Operations, for error messages. */
  index: number;
}

export interface PatchDialect {
  schema: ResourceSchema;
  tree: AttributeTree;
  patchOpUrn: string;
  /** Accepted and dropped: never stored (a password). */
  dropped: string[];
  /** Attributes that always have a value, so `remove` cannot unassign them. */
  alwaysAssigned: string[];
  /** Added to a mutability error about this attribute, e.g. where to change it instead. */
  readOnlyHints?: Record<string, string>;
}

export interface PatchTarget {
  attribute: AttributeDefinition;
  filter?: Filter;
  sub?: AttributeDefinition;
}

type Resource = Record<string, unknown>;
type Element = Record<string, unknown>;

const OPS = new Set(['add', 'remove', 'replace']);
const ATTR_PATH = /^([A-Za-z$][\w$-]*)(?:\.([A-Za-z$][\w$-]*))?$/;
const VALUE_PATH = /^([A-Za-z$][\w$-]*)\[(.+)\](?:\.([A-Za-z$][\w$-]*))?$/s;
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Validates the PatchOp message (§3.5.2) and returns its operations, not yet applied. */
export function readPatchRequest(body: unknown, dialect: PatchDialect): PatchOperation[] {
  const message = body as Record<string, unknown>;
  const schemas = message.schemas;
  if (!Array.isArray(schemas) || !schemas.some((schema) => typeof schema === 'string' && schema.toLowerCase() === dialect.patchOpUrn.toLowerCase())) {
    throw scimError.badRequest('invalidSyntax', `"schemas" must be ["${dialect.patchOpUrn}"], got ${describe(schemas)}`);
  }
  const key = Object.keys(message).find((name) => name.toLowerCase() === 'operations');
  const operations = key ? message[key] : undefined;
  if (!Array.isArray(operations) || operations.length === 0) {
    throw scimError.badRequest('invalidSyntax', `"Operations" must be a non-empty array of {op, path, value}, got ${describe(operations)}`);
  }
  if (operations.length > 1000) throw scimError.badRequest('invalidSyntax', `at most 1000 Operations per request, got ${operations.length}`);
  return operations.map((raw, index) => {
    const where = `Operations[${index}]`;
    if (!isObject(raw)) throw scimError.badRequest('invalidSyntax', `${where} must be an object {op, path, value}, got ${describe(raw)}`);
    const entry = Object.fromEntries(Object.entries(raw).map(([name, value]) => [name.toLowerCase(), value]));
    const op = typeof entry.op === 'string' ? entry.op.toLowerCase() : '';
    if (!OPS.has(op)) throw scimError.badRequest('invalidSyntax', `${where}.op must be "add", "remove" or "replace", got ${describe(entry.op)}`);
    const hasPath = entry.path !== undefined && entry.path !== null && entry.path !== '';
    if (hasPath && typeof entry.path !== 'string') throw scimError.badRequest('invalidPath', `${where}.path must be a string, got ${describe(entry.path)}`);
    if (!hasPath) {
      if (op === 'remove') throw scimError.badRequest('noTarget', `${where}: "remove" needs a "path" naming what to remove (RFC 7644 §3.5.2.2)`);
      if (!isObject(entry.value)) {
        throw scimError.badRequest('invalidValue', `${where}: without a "path", "value" must be an object of attributes such as {"active":false}, got ${describe(entry.value)}`);
      }
    } else {
      // Parsed now so a bad path fails the request before anything is applied.
      parsePath(entry.path as string, dialect, where);
      if (op !== 'remove' && !('value' in entry)) throw scimError.badRequest('invalidValue', `${where}: "${op}" needs a "value"`);
    }
    return { op: op as PatchOperation['op'], ...(hasPath ? { path: entry.path as string } : {}), ...('value' in entry ? { value: entry.value } : {}), index };
  });
}

/** Parses a PATCH path; null when it names a dropped attribute (the operation is ignored). */
export function parsePath(raw: string, dialect: PatchDialect, where: string): PatchTarget | null {
  let path = raw.trim();
  const prefix = `${dialect.schema.id.toLowerCase()}:`;
  if (path.toLowerCase().startsWith(prefix)) path = path.slice(prefix.length);
  if (path.split('[')[0].includes(':')) throw scimError.badRequest('invalidPath', `${where}: path "${raw}" names a schema extension; this server keeps only ${dialect.schema.id}`);
  const valuePath = VALUE_PATH.exec(path);
  const attrPath = valuePath ? null : ATTR_PATH.exec(path);
  if (!valuePath && !attrPath) {
    throw scimError.badRequest('invalidPath', `${where}: "${raw}" is not an attribute path (RFC 7644 §3.5.2), e.g. "displayName", "name.givenName" or "members[value eq \\"<id>\\"]"`);
  }
  const [name, filterText, subName] = valuePath ? [valuePath[1], valuePath[2], valuePath[3]] : [attrPath![1], undefined, attrPath![2]];
  if (dialect.dropped.some((dropped) => dropped.toLowerCase() === name.toLowerCase())) return null;
  const attribute = findAttribute(resourceAttributes(dialect.schema), name);
  if (!attribute) {
    const known = dialect.schema.attributes.map((definition) => definition.name);
    throw scimError.badRequest('invalidPath', `${where}: ${dialect.schema.name} has no attribute "${name}"; the attributes are ${known.join(', ')}`);
  }
  if (attribute.mutability === 'readOnly') throw mutability(dialect, attribute.name, `${where}: "${attribute.name}" is read-only and cannot be changed`);
  let filter: Filter | undefined;
  if (filterText !== undefined) {
    if (!attribute.multiValued) throw scimError.badRequest('invalidPath', `${where}: "${attribute.name}" is single-valued; a value filter [...] only follows a multi-valued attribute`);
    try {
      filter = parse(filterText);
    } catch (error) {
      throw scimError.badRequest('invalidPath', `${where}: the value filter in "${raw}" does not parse (${(error as Error).message})`);
    }
    checkFilter(filter, attribute, where);
  }
  let sub: AttributeDefinition | undefined;
  if (subName !== undefined) {
    sub = findAttribute(attribute.subAttributes ?? [], subName);
    if (!sub) throw scimError.badRequest('invalidPath', `${where}: "${attribute.name}" has no sub-attribute "${subName}"`);
    if (sub.mutability === 'readOnly') throw mutability(dialect, attribute.name, `${where}: "${attribute.name}.${sub.name}" is read-only and cannot be changed`);
  }
  return { attribute, ...(filter ? { filter } : {}), ...(sub ? { sub } : {}) };
}

function mutability(dialect: PatchDialect, attribute: string, detail: string): ScimError {
  const hint = dialect.readOnlyHints?.[attribute];
  return scimError.badRequest('mutability', hint ? `${detail}; ${hint}` : detail);
}

function checkFilter(filter: Filter, attribute: AttributeDefinition, where: string): void {
  if (filter.op === 'and' || filter.op === 'or') return filter.filters.forEach((inner) => checkFilter(inner, attribute, where));
  if (filter.op === 'not') return checkFilter(filter.filter, attribute, where);
  if (filter.op === '[]') throw scimError.badRequest('invalidPath', `${where}: value filters cannot be nested`);
  if (!('attrPath' in filter)) return;
  if (!findAttribute(attribute.subAttributes ?? [], filter.attrPath)) {
    throw scimError.badRequest('invalidPath', `${where}: "${attribute.name}" has no sub-attribute "${filter.attrPath}" to filter on`);
  }
}

/** Does one value of a multi-valued attribute match a value filter (RFC 7644 §3.4.2.2)? */
export function matchesValue(filter: Filter, element: Element, attribute: AttributeDefinition): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((inner) => matchesValue(inner, element, attribute));
    case 'or':
      return filter.filters.some((inner) => matchesValue(inner, element, attribute));
    case 'not':
      return !matchesValue(filter.filter, element, attribute);
    case '[]':
      return false;
    default: {
      const sub = findAttribute(attribute.subAttributes ?? [], filter.attrPath);
      if (!sub) return false;
      const fold = (value: unknown) => (typeof value === 'string' && !sub.caseExact ? value.toLowerCase() : value);
      const actual = element[sub.name];
      const scalar = actual === undefined || actual === null ? null : (fold(actual) as string | number | boolean);
      const expected = filter.op === 'pr' || filter.compValue === null ? undefined : (fold(filter.compValue) as string | number | boolean);
      return compareLeaf(filter.op, scalar, expected);
    }
  }
}

/** The value a filter of `eq` terms joined by `and` describes, or null for any other filter. */
function describedBy(filter: Filter, attribute: AttributeDefinition): Element | null {
  if (filter.op === 'and') {
    const parts = filter.filters.map((inner) => describedBy(inner, attribute));
    return parts.every((part) => part !== null) ? Object.assign({}, ...parts) : null;
  }
  if (filter.op !== 'eq') return null;
  const sub = findAttribute(attribute.subAttributes ?? [], filter.attrPath);
  return sub ? { [sub.name]: filter.compValue } : null;
}

class Patcher {
  constructor(
    readonly resource: Resource,
    private readonly dialect: PatchDialect,
    private readonly where: string,
  ) {}

  private values(attribute: AttributeDefinition): Element[] {
    const current = this.resource[attribute.name];
    return Array.isArray(current) ? (current as Element[]) : [];
  }

  /** What makes two values equal for `add`: their `value` sub-attribute, else the whole value. */
  identity(attribute: AttributeDefinition, element: unknown): string {
    if (isObject(element) && 'value' in element) {
      const sub = findAttribute(attribute.subAttributes ?? [], 'value');
      const value = element.value;
      return JSON.stringify(typeof value === 'string' && !sub?.caseExact ? value.toLowerCase() : value);
    }
    return JSON.stringify(element);
  }

  private canonicalElement(attribute: AttributeDefinition, value: unknown): unknown {
    if (attribute.type !== 'complex') return value;
    if (!isObject(value)) {
      throw scimError.badRequest('invalidValue', `${this.where}: each value of ${attribute.name} must be an object of sub-attributes, got ${describe(value)}`);
    }
    return canonicalize(value, this.dialect.tree[attribute.name] ?? {});
  }

  /** RFC 7643 §2.4: one primary value; a new primary clears the flag on the others. */
  onePrimary(attribute: AttributeDefinition, primary: Element | undefined): void {
    if (!primary || primary.primary !== true) return;
    for (const element of this.values(attribute)) if (element !== primary && element.primary === true) element.primary = false;
  }

  unassign(attribute: AttributeDefinition): void {
    if (attribute.required || this.dialect.alwaysAssigned.includes(attribute.name)) {
      throw scimError.badRequest('mutability', `${this.where}: "${attribute.name}" is required and cannot be removed (RFC 7644 §3.5.2.2)`);
    }
    delete this.resource[attribute.name];
  }

  add(attribute: AttributeDefinition, value: unknown): void {
    if (attribute.multiValued) {
      const existing = this.values(attribute);
      const seen = new Set(existing.map((element) => this.identity(attribute, element)));
      const added: Element[] = [];
      for (const item of Array.isArray(value) ? value : [value]) {
        const element = this.canonicalElement(attribute, item) as Element;
        const key = this.identity(attribute, element);
        if (seen.has(key)) continue;
        seen.add(key);
        added.push(element);
      }
      this.resource[attribute.name] = [...existing, ...added];
      for (const element of added) this.onePrimary(attribute, element);
      return;
    }
    this.set(attribute, value);
  }

  /** A single-valued attribute: a complex value merges, null unassigns (RFC 7644 §3.5.2.3). */
  set(attribute: AttributeDefinition, value: unknown): void {
    if (value === null) return this.unassign(attribute);
    if (attribute.type === 'complex' && !attribute.multiValued) {
      if (!isObject(value)) {
        throw scimError.badRequest('invalidValue', `${this.where}: "value" for ${attribute.name} must be an object of sub-attributes, got ${describe(value)}`);
      }
      const current = isObject(this.resource[attribute.name]) ? (this.resource[attribute.name] as Element) : {};
      this.resource[attribute.name] = { ...current, ...(this.canonicalElement(attribute, value) as Element) };
      return;
    }
    this.resource[attribute.name] = value;
  }

  replace(attribute: AttributeDefinition, value: unknown): void {
    if (!attribute.multiValued) return this.set(attribute, value);
    if (value === null || (Array.isArray(value) && value.length === 0)) return this.unassign(attribute);
    this.resource[attribute.name] = [];
    this.add(attribute, value);
  }

  setSub(attribute: AttributeDefinition, sub: AttributeDefinition, elements: Element[], value: unknown): void {
    if (value === null) return this.removeSub(attribute, sub, elements);
    for (const element of elements) element[sub.name] = value;
    if (sub.name === 'primary') this.onePrimary(attribute, elements.find((element) => element.primary === true));
  }

  removeSub(attribute: AttributeDefinition, sub: AttributeDefinition, elements: Element[]): void {
    if (sub.required) throw scimError.badRequest('mutability', `${this.where}: "${attribute.name}.${sub.name}" is required and cannot be removed (RFC 7644 §3.5.2.2)`);
    for (const element of elements) delete element[sub.name];
  }

  removeValues(attribute: AttributeDefinition, remove: (element: Element) => boolean): void {
    const kept = this.values(attribute).filter((element) => !remove(element));
    if (kept.length > 0) this.resource[attribute.name] = kept;
    else this.unassign(attribute);
  }

  /** The object a sub-attribute path without a filter works on (single complex) or all values. */
  elementsOf(attribute: AttributeDefinition, create: boolean): Element[] {
    if (attribute.multiValued) return this.values(attribute);
    if (!isObject(this.resource[attribute.name])) {
      if (!create) return [];
      this.resource[attribute.name] = {};
    }
    return [this.resource[attribute.name] as Element];
  }

  dropEmpty(attribute: AttributeDefinition): void {
    const value = this.resource[attribute.name];
    if (isObject(value) && Object.keys(value).length === 0) delete this.resource[attribute.name];
  }
}

function applyPathless(patcher: Patcher, resource: Resource, operation: PatchOperation, dialect: PatchDialect, where: string): void {
  const value = canonicalize(operation.value, dialect.tree) as Record<string, unknown>;
  for (const [name, inner] of Object.entries(value)) {
    if (name.includes('.')) {
      applyPath(patcher, { ...operation, path: name, value: inner }, dialect, where);
      continue;
    }
    if (dialect.dropped.some((dropped) => dropped.toLowerCase() === name.toLowerCase())) continue;
    const attribute = findAttribute(resourceAttributes(dialect.schema), name);
    // Attributes no schema defines are ignored, as in POST and PUT.
    if (!attribute) continue;
    if (attribute.mutability === 'readOnly') {
      if (JSON.stringify(inner) === JSON.stringify(resource[attribute.name])) continue;
      if (attribute.name === 'id') throw scimError.badRequest('mutability', `${where}: id is immutable: the PATCH would change it from "${String(resource.id)}" to ${describe(inner)}`);
      throw mutability(dialect, attribute.name, `${where}: "${attribute.name}" is read-only and cannot be changed`);
    }
    if (operation.op === 'add') patcher.add(attribute, inner);
    else patcher.replace(attribute, inner);
  }
}

function applyPath(patcher: Patcher, operation: PatchOperation, dialect: PatchDialect, where: string): void {
  const target = parsePath(operation.path!, dialect, where);
  if (!target) return;
  const { attribute, filter, sub } = target;
  const { op, value } = operation;
  if (!filter) {
    if (!sub) {
      if (op === 'add') return patcher.add(attribute, value);
      if (op === 'replace') return patcher.replace(attribute, value);
      // `remove members` with a value list removes those values (Entra ID sends it).
      if (attribute.multiValued && Array.isArray(value) && value.length > 0) {
        const keys = new Set(value.map((item) => patcher.identity(attribute, canonicalize(item, dialect.tree[attribute.name] ?? {}))));
        return patcher.removeValues(attribute, (element) => keys.has(patcher.identity(attribute, element)));
      }
      return patcher.unassign(attribute);
    }
    const elements = patcher.elementsOf(attribute, op !== 'remove');
    if (op === 'remove') patcher.removeSub(attribute, sub, elements);
    else patcher.setSub(attribute, sub, elements, value);
    patcher.dropEmpty(attribute);
    return;
  }
  const resource = patcher.resource;
  const all = Array.isArray(resource[attribute.name]) ? (resource[attribute.name] as Element[]) : [];
  const matched = all.filter((element) => isObject(element) && matchesValue(filter, element, attribute));
  if (op === 'remove') {
    if (sub) return patcher.removeSub(attribute, sub, matched);
    if (matched.length === 0) return;
    return patcher.removeValues(attribute, (element) => matched.includes(element));
  }
  if (matched.length === 0) {
    const described = op === 'add' && sub ? describedBy(filter, attribute) : null;
    if (!described) throw scimError.badRequest('noTarget', `${where}: no value of ${attribute.name} matches the filter in "${operation.path}" (RFC 7644 §3.5.2.3)`);
    return patcher.add(attribute, [{ ...described, [sub!.name]: value }]);
  }
  if (sub) return patcher.setSub(attribute, sub, matched, value);
  if (!isObject(value)) throw scimError.badRequest('invalidValue', `${where}: "value" for ${attribute.name}[...] must be an object of sub-attributes, got ${describe(value)}`);
  const update = canonicalize(value, dialect.tree[attribute.name] ?? {}) as Element;
  for (const element of matched) Object.assign(element, update);
  if (update.primary === true) patcher.onePrimary(attribute, matched[0]);
}

/** Applies the operations to a copy of `resource` and returns the copy; `resource` is untouched. */
export function applyPatch<T extends object>(resource: T, operations: PatchOperation[], dialect: PatchDialect): Record<string, unknown> {
  const copy = structuredClone(resource) as unknown as Resource;
  for (const operation of operations) {
    const where = `Operations[${operation.index}]`;
    const patcher = new Patcher(copy, dialect, where);
    if (operation.path === undefined) applyPathless(patcher, copy, operation, dialect, where);
    else applyPath(patcher, operation, dialect, where);
  }
  return copy;
}
