/**
 * IdentityRecord <-> SCIM User (RFC 7643 §4.1). Rules:
 * - `id` is the identity id (the OIDC `sub`): never taken from a request;
 * - the primary email (or the first) becomes the identity's `email`, the claim Okta links by; the
 *   full emails[] list is kept in `attributes.emails` so what Okta sent is what it reads back;
 * - `password` is never read, stored or echoed; `groups` is read-only (from group membership);
 * - attributes this server does not keep are ignored, not fatal; wrongly typed ones are 400
 *   invalidValue naming the attribute, what was received and what was expected.
 */
import type { IdentityChanges } from '../../domain/identities.ts';
import type { IdentityRecord } from '../../ports/storage.ts';
import { scimError } from './scim-errors.ts';
import { URN, USER_ATTRIBUTES, canonicalize } from './scim-schemas.ts';

export interface ScimEmail {
  value: string;
  type?: string;
  primary?: boolean;
}

export interface ScimReference {
  value: string;
  display?: string;
  $ref: string;
  type?: string;
}

export interface ScimMeta {
  resourceType: 'User' | 'Group';
  created: string;
  lastModified: string;
  location: string;
  version: string;
}

export interface ScimUser {
  schemas: string[];
  id: string;
  externalId?: string;
  userName: string;
  name: { givenName?: string; familyName?: string; formatted?: string };
  displayName?: string;
  emails: ScimEmail[];
  active: boolean;
  locale?: string;
  /** Omitted when the client excluded it (excludedAttributes=groups). */
  groups?: ScimReference[];
  meta: ScimMeta;
}

/** What a SCIM request may set on an identity. */
export type UserState = Required<Pick<IdentityChanges, 'userName' | 'email' | 'givenName' | 'familyName' | 'displayName' | 'externalId' | 'locale'>> & {
  active?: boolean;
  emails: ScimEmail[];
  formatted: string | null;
};

export function metaOf(resourceType: ScimMeta['resourceType'], record: { id: string; createdAt: number; updatedAt: number; version: number }, location: string): ScimMeta {
  return {
    resourceType,
    created: new Date(record.createdAt).toISOString(),
    lastModified: new Date(record.updatedAt).toISOString(),
    location,
    version: `W/"${record.version}"`,
  };
}

/** The stored emails[], with the identity's email first and primary even if another edge changed it. */
export function emailsOf(identity: Pick<IdentityRecord, 'email' | 'attributes'>): ScimEmail[] {
  const stored = Array.isArray(identity.attributes.emails) ? (identity.attributes.emails as ScimEmail[]).filter((email) => typeof email?.value === 'string') : [];
  const key = identity.email.toLowerCase();
  const primary = stored.find((email) => email.value.toLowerCase() === key);
  const others = stored.filter((email) => email !== primary).map((email) => ({ ...email, primary: false }));
  return [{ ...(primary ?? { type: 'work' }), value: identity.email, primary: true }, ...others];
}

export function toScimUser(identity: IdentityRecord, groups: { id: string; displayName: string }[] | null, baseUrl: string): ScimUser {
  const formatted = typeof identity.attributes.nameFormatted === 'string' ? identity.attributes.nameFormatted : [identity.givenName, identity.familyName].filter(Boolean).join(' ');
  const name: ScimUser['name'] = {};
  if (identity.givenName !== null) name.givenName = identity.givenName;
  if (identity.familyName !== null) name.familyName = identity.familyName;
  if (formatted) name.formatted = formatted;
  return {
    schemas: [URN.user],
    id: identity.id,
    ...(identity.externalId !== null ? { externalId: identity.externalId } : {}),
    userName: identity.userName,
    name,
    ...(identity.displayName !== null ? { displayName: identity.displayName } : {}),
    emails: emailsOf(identity),
    active: identity.active,
    ...(identity.locale !== null ? { locale: identity.locale } : {}),
    ...(groups ? { groups: groups.map((group) => ({ value: group.id, display: group.displayName, $ref: `${baseUrl}/Groups/${group.id}`, type: 'direct' })) } : {}),
    meta: metaOf('User', identity, `${baseUrl}/Users/${identity.id}`),
  };
}

// ------------------------------------------------------------------ reading request bodies

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function optionalString(value: unknown, attribute: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw scimError.badRequest('invalidValue', `${attribute} must be a string, got ${describe(value)}`);
  return value.trim() === '' ? null : value;
}

/** RFC 7643 booleans; "true"/"false" strings are accepted too (some clients send them). */
export function readBoolean(value: unknown, attribute: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw scimError.badRequest('invalidValue', `${attribute} must be true or false, got ${describe(value)}`);
}

function readEmails(value: unknown): ScimEmail[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw scimError.badRequest('invalidValue', `emails must be an array of {value, type, primary}, got ${describe(value)}`);
  return value.map((item, index) => {
    if (!isObject(item) || typeof item.value !== 'string' || item.value.trim() === '') {
      throw scimError.badRequest('invalidValue', `emails[${index}] must be an object with a string "value", got ${describe(item)}`);
    }
    const email: ScimEmail = { value: item.value.trim() };
    if (item.type !== undefined && item.type !== null) email.type = String(item.type);
    if (item.primary !== undefined && item.primary !== null) email.primary = readBoolean(item.primary, `emails[${index}].primary`);
    return email;
  });
}

/** Canonicalizes attribute names and checks `schemas` (RFC 7643 §3: it must name the User schema). */
export function readUserBody(body: unknown): Record<string, unknown> {
  const canonical = canonicalize(body, USER_ATTRIBUTES) as Record<string, unknown>;
  const schemas = canonical.schemas;
  if (!Array.isArray(schemas) || !schemas.some((schema) => typeof schema === 'string' && schema.toLowerCase() === URN.user.toLowerCase())) {
    throw scimError.badRequest('invalidSyntax', `"schemas" must include "${URN.user}", got ${describe(schemas)}`);
  }
  return canonical;
}

/**
 * A User body (POST, PUT, or a patched resource) -> the identity state it asks for.
 * `current` is the identity being replaced: when the body has no emails, its email is kept.
 */
export function userStateOf(resource: Record<string, unknown>, current?: IdentityRecord): UserState {
  const userName = resource.userName;
  if (typeof userName !== 'string' || userName.trim() === '') {
    throw scimError.badRequest('invalidValue', `userName is required and must be a non-empty string, got ${describe(userName)}`);
  }
  const name = resource.name ?? {};
  if (!isObject(name)) throw scimError.badRequest('invalidValue', `name must be an object like {"givenName","familyName"}, got ${describe(name)}`);
  let emails = readEmails(resource.emails);
  if (emails.length === 0 && current) emails = emailsOf(current);
  if (emails.length === 0 && /^[^\s@]+@[^\s@]+$/.test(userName)) emails = [{ value: userName.trim(), type: 'work', primary: true }];
  if (emails.length === 0) {
    throw scimError.badRequest('invalidValue', 'emails must hold at least one address: Okta links the account by email (map an email in the app\'s attribute mappings)');
  }
  const primary = emails.find((email) => email.primary) ?? emails[0];
  return {
    userName: userName.trim(),
    email: primary.value,
    emails: emails.map((email) => ({ ...email, primary: email === primary })),
    givenName: optionalString(name.givenName, 'name.givenName'),
    familyName: optionalString(name.familyName, 'name.familyName'),
    formatted: optionalString(name.formatted, 'name.formatted'),
    displayName: optionalString(resource.displayName, 'displayName'),
    externalId: optionalString(resource.externalId, 'externalId'),
    locale: optionalString(resource.locale, 'locale'),
    ...(resource.active !== undefined && resource.active !== null ? { active: readBoolean(resource.active, 'active') } : {}),
  };
}

/** Okta user ids: "00u" and 17 more letters or digits (what Okta's SCIM client sends as externalId). */
const OKTA_USER_ID = /^00u[0-9A-Za-z]{17}$/;

/** The identity changes a user state amounts to; attributes other edges keep are left alone. */
export function identityChangesOf(state: UserState, current?: IdentityRecord): IdentityChanges {
  const { emails, formatted, ...fields } = state;
  // Okta's externalId is the Okta user id: remembering it lets the registration flag be set by id
  // (stable across login renames). Anything else leaves the id to be resolved by login later.
  const oktaUserId = fields.externalId && OKTA_USER_ID.test(fields.externalId) && !current?.oktaUserId ? { oktaUserId: fields.externalId } : {};
  const attributes: Record<string, unknown> = { ...(current?.attributes ?? {}), emails };
  // formatted is kept only when it says more than "given family" (which it is derived from).
  const derived = [fields.givenName, fields.familyName].filter(Boolean).join(' ');
  if (formatted !== null && formatted !== derived) attributes.nameFormatted = formatted;
  else delete attributes.nameFormatted;
  return { ...fields, ...oktaUserId, attributes };
}

/** True when applying `changes` would leave `current` as it is (a no-op PUT or PATCH writes nothing). */
export function changesNothing(current: IdentityRecord, changes: IdentityChanges): boolean {
  return Object.entries(changes).every(([key, value]) => value === undefined || JSON.stringify((current as unknown as Record<string, unknown>)[key]) === JSON.stringify(value));
}
