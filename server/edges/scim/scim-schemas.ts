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
} as const;

export const SCIM_BASE_PATH = '/scim/v2';
/** What an admin pastes into Okta's "SCIM 2.0 Base Url". */
export const scimBaseUrl = (publicUrl: string): string => `${publicUrl}${SCIM_BASE_PATH}`;
/** Advertised as filter.maxResults; larger `count` values are lowered to it (RFC 7644 §3.4.2.4). */
export const MAX_RESULTS = 1000;
export const DEFAULT_COUNT = 100;

/** Canonical attribute names, nested for complex and multi-valued attributes (null: a leaf). */
export interface AttributeTree {
  [name: string]: AttributeTree | null;
}

const reference = { value: null, display: null, $ref: null, type: null };

export const USER_ATTRIBUTES: AttributeTree = {
  schemas: null,
  id: null,
  externalId: null,
  userName: null,
  name: { givenName: null, familyName: null, formatted: null },
  displayName: null,
  emails: { value: null, type: null, primary: null, display: null },
  active: null,
  locale: null,
  groups: reference,
  password: null,
  meta: null,
};

export const GROUP_ATTRIBUTES: AttributeTree = {
  schemas: null,
  id: null,
  externalId: null,
  displayName: null,
  members: reference,
  meta: null,
};

/** Multi-valued attributes: a value filter (`emails[type eq "work"]`) may only follow these. */
export const MULTI_VALUED = new Set(['emails', 'groups', 'members']);

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

type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
interface AttributeOptions {
  type?: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: Mutability;
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  description: string;
  subAttributes?: SchemaAttribute[];
  referenceTypes?: string[];
}

/** RFC 7643 §7 attribute definition. */
interface SchemaAttribute {
  name: string;
  type: string;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact?: boolean;
  mutability: Mutability;
  returned: string;
  uniqueness: string;
  subAttributes?: SchemaAttribute[];
  referenceTypes?: string[];
}

function attribute(name: string, options: AttributeOptions): SchemaAttribute {
  const { type = 'string', subAttributes, referenceTypes, ...rest } = options;
  return {
    name,
    type,
    multiValued: rest.multiValued ?? false,
    description: rest.description,
    required: rest.required ?? false,
    ...(type === 'string' || type === 'reference' ? { caseExact: rest.caseExact ?? false } : {}),
    mutability: rest.mutability ?? 'readWrite',
    returned: rest.returned ?? 'default',
    uniqueness: rest.uniqueness ?? 'none',
    ...(subAttributes ? { subAttributes } : {}),
    ...(referenceTypes ? { referenceTypes } : {}),
  };
}

const memberReference = (what: string, mutability: Mutability, referenceTypes: string[]) => [
  attribute('value', { description: `The id of the ${what}.`, mutability, caseExact: true }),
  attribute('display', { description: `A human-readable name of the ${what}.`, mutability }),
  attribute('$ref', { type: 'reference', description: `The URI of the ${what}.`, mutability, referenceTypes }),
  attribute('type', { description: 'The resource type of the referenced resource.', mutability }),
];

const commonAttributes = [
  attribute('id', { description: 'Unique, opaque, never changes; the OIDC `sub` Okta links accounts by.', caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  attribute('externalId', { description: "The client's own id for the resource (Okta's user or group id).", caseExact: true }),
];

function schemaDocument(id: string, name: string, description: string, attributes: unknown[], location: string) {
  return { schemas: [URN.schema], id, name, description, attributes, meta: { resourceType: 'Schema', location } };
}

export function schemaDocuments(baseUrl: string) {
  const user = schemaDocument(URN.user, 'User', 'A person who signs in with passkeys', [
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
      description: 'Email addresses; the primary one (or the first) is the `email` claim Okta links by. Only it can be filtered on.',
      subAttributes: [
        attribute('value', { description: 'The address.' }),
        attribute('type', { description: 'e.g. "work".' }),
        attribute('primary', { type: 'boolean', description: 'The address used as the email claim.' }),
      ],
    }),
    attribute('active', { type: 'boolean', description: 'false blocks sign-in and ends every session at once; true restores it.' }),
    attribute('locale', { description: 'Preferred locale, e.g. "en-US".' }),
    attribute('groups', {
      type: 'complex',
      multiValued: true,
      mutability: 'readOnly',
      description: 'Groups the person belongs to; change membership through /Groups.',
      subAttributes: memberReference('group', 'readOnly', ['Group']),
    }),
  ], `${baseUrl}/Schemas/${URN.user}`);
  const group = schemaDocument(URN.group, 'Group', 'A group that decides who may sign in to which app', [
    ...commonAttributes,
    attribute('displayName', { description: 'Unique, compared case-insensitively.', required: true, uniqueness: 'server' }),
    attribute('members', {
      type: 'complex',
      multiValued: true,
      description: 'Members of the group (users only). Ids that name no user are ignored.',
      subAttributes: memberReference('member', 'immutable', ['User']),
    }),
  ], `${baseUrl}/Schemas/${URN.group}`);
  return [user, group];
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
    sort: { supported: false },
    etag: { supported: false },
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
