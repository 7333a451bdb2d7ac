/**
 * What this SCIM server supports, said once: the URNs, the attributes each resource keeps, and
 * the discovery documents built from them (RFC 7643 §5-§7), so /Schemas cannot drift from what
 * the mappers actually read and write.
 * - Attribute names are case-insensitive (RFC 7643 §2.1); ATTRIBUTE_TREES gives each its canonical
 *   spelling, used to canonicalize request bodies and PATCH paths before anything else reads them.
 * - Attributes not listed here are ignored on input (Okta sends more than an IdP needs).
 */

export const URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
  searchRequest: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
} as const;

export const SCIM_BASE_PATH = '/scim/v2';
/** What an admin pastes into Okta's "SCIM 2.0 Base Url". */
export const scimBaseUrl = (publicUrl: string): string => `${publicUrl}${SCIM_BASE_PATH}`;
/** Advertised as filter.maxResults; larger `count` values are lowered to it (RFC 7644 §3.4.2.4). */
export const MAX_RESULTS = 1000;
export const DEFAULT_COUNT = 100;

// ------------------------------------------------------------------ the one definition

export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';

/**
 * An attribute as RFC 7643 §7 describes it. /Schemas serves exactly these objects; the request
 * reader (resource-reader.ts), PATCH (patch-engine.ts), filters and attribute projection all read
 * the same ones, so what is advertised is what is enforced.
 */
export interface AttributeDefinition {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDefinition[];
}

export interface ResourceSchema {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDefinition[];
}

type AttributeOptions = Partial<Omit<AttributeDefinition, 'name' | 'description'>> & { description: string };

function attribute(name: string, options: AttributeOptions): AttributeDefinition {
  const { type = 'string', subAttributes, referenceTypes, canonicalValues, ...rest } = options;
  return {
    name,
    type,
    multiValued: rest.multiValued ?? false,
    description: rest.description,
    required: rest.required ?? false,
    caseExact: rest.caseExact ?? false,
    mutability: rest.mutability ?? 'readWrite',
    returned: rest.returned ?? 'default',
    uniqueness: rest.uniqueness ?? 'none',
    ...(canonicalValues ? { canonicalValues } : {}),
    ...(referenceTypes ? { referenceTypes } : {}),
    ...(subAttributes ? { subAttributes } : {}),
  };
}

const commonAttributes = [
  attribute('id', { description: 'Unique, opaque, never changes; the OIDC `sub` Okta links accounts by.', caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  attribute('externalId', { description: "The client's own id for the resource (Okta's user or group id).", caseExact: true }),
];

/** RFC 7643 §3.1 `meta`: served on every resource, described there rather than in /Schemas. */
export const META_ATTRIBUTE = attribute('meta', {
  type: 'complex',
  mutability: 'readOnly',
  description: 'Resource metadata (RFC 7643 §3.1).',
  subAttributes: [
    attribute('resourceType', { description: 'User or Group.', mutability: 'readOnly', caseExact: true }),
    attribute('created', { type: 'dateTime', description: 'When the resource was created.', mutability: 'readOnly' }),
    attribute('lastModified', { type: 'dateTime', description: 'When the resource last changed.', mutability: 'readOnly' }),
    attribute('location', { type: 'reference', description: 'The URI of the resource.', mutability: 'readOnly', caseExact: true, referenceTypes: ['uri'] }),
    attribute('version', { description: 'The weak ETag of the current version (RFC 7644 §3.14).', mutability: 'readOnly', caseExact: true }),
  ],
});

export const USER_SCHEMA: ResourceSchema = {
  id: URN.user,
  name: 'User',
  description: 'A person who signs in with passkeys',
  attributes: [
    ...commonAttributes,
    attribute('userName', { description: 'Unique, compared case-insensitively; usually the Okta login.', required: true, uniqueness: 'server' }),
    attribute('name', {
      type: 'complex',
      description: "The person's name.",
      subAttributes: [
        attribute('givenName', { description: 'Given name.' }),
        attribute('familyName', { description: 'Family name.' }),
        attribute('formatted', { description: 'The full name; derived from given and family name when not set.' }),
      ],
    }),
    attribute('displayName', { description: 'The name shown to the person and in the console.' }),
    attribute('emails', {
      type: 'complex',
      multiValued: true,
      required: true,
      description: 'Email addresses, at least one: the primary one (or the first) is the `email` claim Okta links by.',
      subAttributes: [
        attribute('value', { description: 'The address.', required: true }),
        attribute('type', { description: 'A label such as "work" or "home".' }),
        attribute('primary', { type: 'boolean', description: 'The address used as the email claim; exactly one is primary.' }),
      ],
    }),
    attribute('active', {
      type: 'boolean',
      description: 'false blocks sign-in and ends every session at once; true restores it. true when not given on create; it always has a value, so it cannot be removed.',
    }),
    attribute('locale', { description: 'Preferred locale, e.g. "en-US".' }),
    attribute('groups', {
      type: 'complex',
      multiValued: true,
      mutability: 'readOnly',
      description: 'Groups the person belongs to; change membership through /Groups.',
      subAttributes: [
        attribute('value', { description: 'The id of the group.', mutability: 'readOnly', caseExact: true }),
        attribute('display', { description: 'The displayName of the group.', mutability: 'readOnly' }),
        attribute('$ref', { type: 'reference', description: 'The URI of the group.', mutability: 'readOnly', caseExact: true, referenceTypes: ['Group'] }),
        attribute('type', { description: 'Direct membership (groups are not nested).', mutability: 'readOnly', canonicalValues: ['direct'] }),
      ],
    }),
  ],
};

export const GROUP_SCHEMA: ResourceSchema = {
  id: URN.group,
  name: 'Group',
  description: 'A group that decides who may sign in to which app',
  attributes: [
    ...commonAttributes,
    attribute('displayName', { description: 'Unique, compared case-insensitively.', required: true, uniqueness: 'server' }),
    attribute('members', {
      type: 'complex',
      multiValued: true,
      description: 'Members of the group (users only). Ids that name no user are ignored.',
      subAttributes: [
        attribute('value', { description: 'The id of the member.', mutability: 'immutable', caseExact: true, required: true }),
        attribute('display', { description: "The member's display name, filled in by the server.", mutability: 'readOnly' }),
        attribute('$ref', { type: 'reference', description: 'The URI of the member.', mutability: 'readOnly', caseExact: true, referenceTypes: ['User'] }),
        attribute('type', { description: 'The resource type of the member: only users can be members.', mutability: 'immutable', canonicalValues: ['User'] }),
      ],
    }),
  ],
};

/** Attributes the server accepts and drops (never stored, never echoed): Okta sends a placeholder password. */
export const DROPPED_ATTRIBUTES: Record<string, string[]> = { [URN.user]: ['password'], [URN.group]: [] };

/** The definition of `name` among `definitions`, matched case-insensitively (RFC 7643 §2.1). */
export function findAttribute(definitions: AttributeDefinition[], name: string): AttributeDefinition | undefined {
  const lower = name.toLowerCase();
  return definitions.find((definition) => definition.name.toLowerCase() === lower);
}

/** Every attribute a resource of this schema carries, `schemas` and `meta` included. */
export function resourceAttributes(schema: ResourceSchema): AttributeDefinition[] {
  return [SCHEMAS_ATTRIBUTE, ...schema.attributes, META_ATTRIBUTE];
}

const SCHEMAS_ATTRIBUTE = attribute('schemas', { multiValued: true, caseExact: true, mutability: 'readOnly', returned: 'always', description: 'The schema URNs of the resource.' });

/** Canonical attribute names, nested for complex and multi-valued attributes (null: a leaf). */
export interface AttributeTree {
  [name: string]: AttributeTree | null;
}

function treeOf(definitions: AttributeDefinition[]): AttributeTree {
  return Object.fromEntries(definitions.map((definition) => [definition.name, definition.subAttributes ? treeOf(definition.subAttributes) : null]));
}

export const USER_ATTRIBUTES: AttributeTree = { ...treeOf(resourceAttributes(USER_SCHEMA)), password: null };
export const GROUP_ATTRIBUTES: AttributeTree = treeOf(resourceAttributes(GROUP_SCHEMA));

/** Multi-valued attributes: a value filter (`emails[type eq "work"]`) may only follow these. */
export const MULTI_VALUED = new Set([...USER_SCHEMA.attributes, ...GROUP_SCHEMA.attributes].filter((definition) => definition.multiValued).map((definition) => definition.name));

/** The canonical spelling of `name` among `tree`'s keys, or null when the attribute is unknown. */
export function canonicalName(tree: AttributeTree, name: string): string | null {
  if (Object.hasOwn(tree, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(tree).find((key) => key.toLowerCase() === lower) ?? null;
}

/** Renames known keys to their canonical spelling, recursively; unknown keys are left alone. */
export function canonicalize(value: unknown, tree: AttributeTree): unknown {
  if (Array.isArray(value)) return value.map((item) => canonicalize(item, tree));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const dotted = key.split('.');
    const top = canonicalName(tree, dotted[0]);
    if (!top) {
      out[key] = inner;
      continue;
    }
    const subtree = tree[top];
    if (dotted.length === 2 && subtree) {
      out[`${top}.${canonicalName(subtree, dotted[1]) ?? dotted[1]}`] = inner;
    } else {
      out[dotted.length === 1 ? top : key] = subtree ? canonicalize(inner, subtree) : inner;
    }
  }
  return out;
}

// ------------------------------------------------------------------ discovery documents

function schemaDocument(schema: ResourceSchema, baseUrl: string) {
  return { schemas: [URN.schema], id: schema.id, name: schema.name, description: schema.description, attributes: schema.attributes, meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` } };
}

export function schemaDocuments(baseUrl: string) {
  return [schemaDocument(USER_SCHEMA, baseUrl), schemaDocument(GROUP_SCHEMA, baseUrl)];
}

export function resourceTypeDocuments(baseUrl: string) {
  return [
    { schemas: [URN.resourceType], id: 'User', name: 'User', endpoint: '/Users', description: 'People', schema: URN.user, meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` } },
    { schemas: [URN.resourceType], id: 'Group', name: 'Group', endpoint: '/Groups', description: 'Groups', schema: URN.group, meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` } },
  ];
}

/** RFC 7643 §5: only what this server really does. */
export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [URN.serviceProviderConfig],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A bearer token created with `latchkey scim-tokens create`, sent as `Authorization: Bearer <token>`.',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}
