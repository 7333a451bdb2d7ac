/**
 * IdentityRecord <-> SCIM User (RFC 7643 §4.1). Rules:
 * - `id` is the identity id (the OIDC `sub`): never taken from a request;
 * - the primary email (or the first) becomes the identity's `email`, the claim Okta links by; the
 *   full emails[] list is kept in `attributes.emails` so what Okta sent is what it reads back;
 * - `password` is never read, stored or echoed; `groups` is read-only (from group membership);
 * - bodies are checked against the schema by resource-reader.ts before they reach this mapper.
 */
import type { IdentityChanges } from '../../domain/identities.ts';
import type { IdentityRecord } from '../../ports/storage.ts';
import { URN } from './scim-schemas.ts';

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
  /** Omitted when the response will not carry it (excludedAttributes=groups), to skip the lookups. */
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

/** name.formatted: as the client set it, else derived from given and family name. */
export function formattedNameOf(identity: Pick<IdentityRecord, 'attributes' | 'givenName' | 'familyName'>): string {
  return typeof identity.attributes.nameFormatted === 'string' ? identity.attributes.nameFormatted : [identity.givenName, identity.familyName].filter(Boolean).join(' ');
}

export function toScimUser(identity: IdentityRecord, groups: { id: string; displayName: string }[] | null, baseUrl: string): ScimUser {
  const formatted = formattedNameOf(identity);
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

// ------------------------------------------------------------------ request bodies -> identity state

type ReadEmail = { value: string; type?: string; primary?: boolean };

/**
 * A User body already read by resource-reader.ts (POST, PUT, or a patched resource) -> the
 * identity state it asks for. The primary address (or the first) becomes the identity's email.
 */
export function userStateOf(resource: Record<string, unknown>): UserState {
  const name = (resource.name ?? {}) as Record<string, string | undefined>;
  const emails = (resource.emails as ReadEmail[]).map((email) => ({ ...email, value: email.value.trim() }));
  const primary = emails.find((email) => email.primary) ?? emails[0];
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : null);
  return {
    userName: (resource.userName as string).trim(),
    email: primary.value,
    emails: emails.map((email) => ({ ...email, primary: email === primary })),
    givenName: text(name.givenName),
    familyName: text(name.familyName),
    formatted: text(name.formatted),
    displayName: text(resource.displayName),
    externalId: text(resource.externalId),
    locale: text(resource.locale),
    ...(typeof resource.active === 'boolean' ? { active: resource.active } : {}),
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
