/**
 * GroupRecord + member ids <-> SCIM Group (RFC 7643 §4.2). Rules:
 * - `members[].value` is the identity id; `display` is filled in from the identity on output and
 *   ignored on input (Okta sends the login there);
 * - member ids naming no identity are ignored, not fatal (Okta may push a group before its users:
 *   a later membership PATCH adds them once they exist);
 * - `displayName` is required; its uniqueness is the group domain's rule (409 uniqueness here).
 */
import type { GroupRecord, IdentityRecord } from '../../ports/storage.ts';
import { displayNameOf } from '../../domain/identities.ts';
import { scimError } from './scim-errors.ts';
import { GROUP_ATTRIBUTES, URN, canonicalize } from './scim-schemas.ts';
import { metaOf, type ScimMeta, type ScimReference } from './user-resource.ts';

export interface ScimGroup {
  schemas: string[];
  id: string;
  externalId?: string;
  displayName: string;
  members?: ScimReference[];
  meta: ScimMeta;
}

export interface GroupState {
  displayName: string;
  externalId: string | null;
  /** undefined: the request did not mention members. */
  memberIds?: string[];
}

/** `members` null leaves the attribute out (excludedAttributes=members). */
export function toScimGroup(group: GroupRecord, members: Pick<IdentityRecord, 'id' | 'userName' | 'displayName' | 'givenName' | 'familyName'>[] | null, baseUrl: string): ScimGroup {
  return {
    schemas: [URN.group],
    id: group.id,
    ...(group.externalId !== null ? { externalId: group.externalId } : {}),
    displayName: group.displayName,
    ...(members ? { members: members.map((member) => ({ value: member.id, display: displayNameOf(member), $ref: `${baseUrl}/Users/${member.id}`, type: 'User' })) } : {}),
    meta: metaOf('Group', group, `${baseUrl}/Groups/${group.id}`),
  };
}

const describe = (value: unknown): string => {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** `[{value, display}]` -> ids, in order, without duplicates. */
export function memberIdsOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  const ids = items.map((item, index) => {
    const id = item !== null && typeof item === 'object' ? (item as { value?: unknown }).value : undefined;
    if (typeof id !== 'string' || id.trim() === '') {
      throw scimError.badRequest('invalidValue', `members[${index}] must be an object with the user id in "value", got ${describe(item)}`);
    }
    return id.trim();
  });
  return [...new Set(ids)];
}

export function readGroupBody(body: unknown): Record<string, unknown> {
  const canonical = canonicalize(body, GROUP_ATTRIBUTES) as Record<string, unknown>;
  const schemas = canonical.schemas;
  if (!Array.isArray(schemas) || !schemas.some((schema) => typeof schema === 'string' && schema.toLowerCase() === URN.group.toLowerCase())) {
    throw scimError.badRequest('invalidSyntax', `"schemas" must include "${URN.group}", got ${describe(schemas)}`);
  }
  return canonical;
}

export function groupStateOf(resource: Record<string, unknown>): GroupState {
  const { displayName, externalId, members } = resource;
  if (typeof displayName !== 'string' || displayName.trim() === '') {
    throw scimError.badRequest('invalidValue', `displayName is required and must be a non-empty string, got ${describe(displayName)}`);
  }
  if (externalId !== undefined && externalId !== null && typeof externalId !== 'string') {
    throw scimError.badRequest('invalidValue', `externalId must be a string, got ${describe(externalId)}`);
  }
  return {
    displayName: displayName.trim(),
    externalId: typeof externalId === 'string' && externalId !== '' ? externalId : null,
    ...(members !== undefined ? { memberIds: memberIdsOf(members) } : {}),
  };
}
