/**
 * PATCH requests (RFC 7644 §3.5.2), applied with scim-patch to an in-memory copy of the resource,
 * so a request with several operations lands whole or not at all: the caller writes the final
 * state once, with the version it read. Rules, and what scim-patch needs help with:
 * - op names are accepted in any case ("Replace", "REPLACE"): scim-patch knows only two spellings;
 * - paths are validated and canonicalized first: unknown attributes and unparsable value filters
 *   are 400 invalidPath, read-only attributes (id, meta, User groups) 400 mutability, a `remove`
 *   without a path 400 noTarget (§3.5.2.2); attribute names inside value filters are canonicalized
 *   too, since scim-patch matches them case-sensitively;
 * - a path-less add/replace must carry an object (`{"active":false}`, Okta's deactivation);
 *   scim-patch would otherwise return the bare value as the whole resource;
 * - operations run one at a time so an error names the operation; multi-valued attributes are
 *   kept present (as []) between operations, because scim-patch cannot filter an absent array;
 * - `password` operations are dropped: a password is never stored.
 */
import { scimPatch, type ScimPatchOperation, type ScimResource } from 'scim-patch';
import { parse, stringify, type Filter } from 'scim2-parse-filter';
import { isAppError } from '../../domain/errors.ts';
import { ScimError, scimError } from './scim-errors.ts';
import { MULTI_VALUED, URN, canonicalName, canonicalize, type AttributeTree } from './scim-schemas.ts';

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: string;
  value?: unknown;
  /** Position in the request's Operations, for error messages. */
  index: number;
}

export interface PatchDialect {
  resource: 'User' | 'Group';
  schemaUrn: string;
  tree: AttributeTree;
  /** Attributes a PATCH may not touch (RFC 7643 §2.2 readOnly / immutable). */
  readOnly: string[];
  /** Attributes whose operations are accepted and ignored. */
  ignored: string[];
}

const PATH = /^([A-Za-z$][\w$-]*)(?:\[(.+)\])?(?:\.([A-Za-z$][\w$-]*))?$/s;
const OPS = new Set(['add', 'remove', 'replace']);

const describe = (value: unknown): string => {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

function canonicalFilter(filter: Filter, tree: AttributeTree): Filter {
  if ('filters' in filter) return { ...filter, filters: filter.filters.map((inner) => canonicalFilter(inner, tree)) };
  if ('filter' in filter) return { ...filter, filter: canonicalFilter(filter.filter, tree) };
  if ('valFilter' in filter) return filter;
  return { ...filter, attrPath: canonicalName(tree, filter.attrPath) ?? filter.attrPath };
}

/** Returns the canonical path, or null when the operation targets an ignored attribute. */
function canonicalPath(raw: string, dialect: PatchDialect, where: string): { path: string; attribute: string; subtree: AttributeTree | null } | null {
  let path = raw.trim();
  const prefix = `${dialect.schemaUrn.toLowerCase()}:`;
  if (path.toLowerCase().startsWith(prefix)) path = path.slice(prefix.length);
  const head = path.split('[')[0];
  if (head.includes(':')) throw scimError.badRequest('invalidPath', `${where}: path "${raw}" names a schema extension; this server keeps only ${dialect.schemaUrn}`);
  const match = PATH.exec(path);
  if (!match) throw scimError.badRequest('invalidPath', `${where}: "${raw}" is not an attribute path (RFC 7644 §3.5.2), e.g. "displayName", "name.givenName" or "members[value eq \\"<id>\\"]"`);
  const [, name, filterText, subName] = match;
  const attribute = canonicalName(dialect.tree, name);
  if (!attribute) {
    const known = Object.keys(dialect.tree).filter((key) => !['schemas', 'meta', ...dialect.ignored].includes(key));
    throw scimError.badRequest('invalidPath', `${where}: ${dialect.resource} has no attribute "${name}"; the attributes are ${known.join(', ')}`);
  }
  if (dialect.ignored.includes(attribute)) return null;
  if (dialect.readOnly.includes(attribute)) {
    throw scimError.badRequest('mutability', `${where}: "${attribute}" is read-only and cannot be changed${attribute === 'groups' ? '; change membership through PATCH /Groups/{id}' : ''}`);
  }
  const subtree = dialect.tree[attribute];
  let filter = '';
  if (filterText !== undefined) {
    if (!MULTI_VALUED.has(attribute) || !subtree) throw scimError.badRequest('invalidPath', `${where}: "${attribute}" is single-valued; a value filter [...] only follows a multi-valued attribute`);
    try {
      filter = `[${stringify(canonicalFilter(parse(filterText), subtree))}]`;
    } catch (error) {
      throw scimError.badRequest('invalidPath', `${where}: the value filter in "${raw}" does not parse (${(error as Error).message})`);
    }
  }
  let sub = '';
  if (subName !== undefined) {
    const canonicalSub = subtree ? canonicalName(subtree, subName) : null;
    if (!canonicalSub) throw scimError.badRequest('invalidPath', `${where}: "${attribute}" has no sub-attribute "${subName}"`);
    sub = `.${canonicalSub}`;
  }
  return { path: `${attribute}${filter}${sub}`, attribute, subtree: sub ? null : subtree };
}

/** Validates the PatchOp message and returns its operations, canonicalized (not yet applied). */
export function readPatchRequest(body: unknown, dialect: PatchDialect): PatchOperation[] {
  const message = body as Record<string, unknown>;
  const schemas = message.schemas;
  if (!Array.isArray(schemas) || !schemas.some((schema) => typeof schema === 'string' && schema.toLowerCase() === URN.patchOp.toLowerCase())) {
    throw scimError.badRequest('invalidSyntax', `"schemas" must be ["${URN.patchOp}"], got ${describe(schemas)}`);
  }
  const key = Object.keys(message).find((name) => name.toLowerCase() === 'operations');
  const operations = key ? message[key] : undefined;
  if (!Array.isArray(operations) || operations.length === 0) {
    throw scimError.badRequest('invalidSyntax', `"Operations" must be a non-empty array of {op, path, value}, got ${describe(operations)}`);
  }
  if (operations.length > 1000) throw scimError.badRequest('invalidSyntax', `at most 1000 Operations per request, got ${operations.length}`);
  const read: PatchOperation[] = [];
  operations.forEach((raw, index) => {
    const where = `Operations[${index}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw scimError.badRequest('invalidSyntax', `${where} must be an object {op, path, value}, got ${describe(raw)}`);
    const entry = Object.fromEntries(Object.entries(raw).map(([name, value]) => [name.toLowerCase(), value]));
    const op = typeof entry.op === 'string' ? entry.op.toLowerCase() : '';
    if (!OPS.has(op)) throw scimError.badRequest('invalidSyntax', `${where}.op must be "add", "remove" or "replace", got ${describe(entry.op)}`);
    const hasPath = entry.path !== undefined && entry.path !== null && entry.path !== '';
    if (hasPath && typeof entry.path !== 'string') throw scimError.badRequest('invalidPath', `${where}.path must be a string, got ${describe(entry.path)}`);
    if (!hasPath) {
      if (op === 'remove') throw scimError.badRequest('noTarget', `${where}: "remove" needs a "path" naming what to remove (RFC 7644 §3.5.2.2)`);
      if (entry.value === null || typeof entry.value !== 'object' || Array.isArray(entry.value)) {
        throw scimError.badRequest('invalidValue', `${where}: without a "path", "value" must be an object of attributes such as {"active":false}, got ${describe(entry.value)}`);
      }
      const value = canonicalize(entry.value, dialect.tree) as Record<string, unknown>;
      for (const name of dialect.ignored) delete value[name];
      read.push({ op: op as PatchOperation['op'], value, index });
      return;
    }
    const target = canonicalPath(entry.path as string, dialect, where);
    if (!target) return;
    if (op !== 'remove' && !('value' in entry)) throw scimError.badRequest('invalidValue', `${where}: "${op}" needs a "value"`);
    const value = target.subtree && entry.value !== undefined ? canonicalize(entry.value, target.subtree) : entry.value;
    read.push({ op: op as PatchOperation['op'], path: target.path, ...(op !== 'remove' || value !== undefined ? { value } : {}), index });
  });
  return read;
}

function translateLibraryError(error: unknown, operation: PatchOperation): ScimError {
  const where = `Operations[${operation.index}] (${operation.op} ${operation.path ?? 'without path'})`;
  if (error instanceof ScimError) return error;
  const { scimCode, name, message } = error as { scimCode?: string; name?: string; message?: string };
  const detail = (message ?? String(error)).replace(/^Invalid SCIM Patch:\s*/, '');
  if (scimCode === 'noTarget') return scimError.badRequest('noTarget', `${where}: ${detail}`);
  if (name === 'InvalidScimPatchRequest') return scimError.badRequest('invalidSyntax', `${where}: ${detail}`);
  if (detail === 'Invalid patch query.') return scimError.badRequest('invalidValue', `${where}: "value" must be an object of sub-attributes for a complex attribute, got ${describe(operation.value)}`);
  return scimError.badRequest('invalidValue', `${where} cannot be applied: ${detail}`);
}

/**
 * Applies the operations to a copy of `resource` and returns the copy; `resource` is untouched.
 * `arrays` are the multi-valued attributes to keep present between operations.
 */
export function applyPatch<T extends object>(resource: T, operations: PatchOperation[], arrays: string[]): Record<string, unknown> {
  let current = structuredClone(resource) as unknown as Record<string, unknown>;
  for (const operation of operations) {
    for (const name of arrays) if (current[name] === undefined || current[name] === null) current[name] = [];
    const { index: _index, ...op } = operation;
    try {
      current = scimPatch(current as unknown as ScimResource, [op as ScimPatchOperation], { mutateDocument: true, treatMissingAsAdd: true }) as unknown as Record<string, unknown>;
    } catch (error) {
      throw translateLibraryError(error, operation);
    }
  }
  return current;
}

/**
 * Runs a read-modify-write, again from a fresh read when someone else wrote in between (the
 * domain refuses a write whose version moved on). Safe for PUT and PATCH: neither carries If-Match,
 * so applying the request to the newer state is what the client asked for.
 */
export async function retryOnStale<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isAppError(error, 'stale')) throw error;
    }
  }
}
