/**
 * GroupRecord + member ids <-> SCIM Group (RFC 7643 §4.2). Rules:
 * - `members[].value` is the identity id; `display` is filled in from the identity on output and
 *   ignored on input (Okta sends the login there);
 * - member ids naming no identity are ignored, not fatal (Okta may push a group before its users:
 *   a later membership PATCH adds them once they exist);
 * - `displayName` is required (resource-reader.ts); its uniqueness is the group domain's rule.
 */
import type { GroupRecord, IdentityRecord } from '../../ports/storage.ts';
import { displayNameOf } from '../../domain/identities.ts';
import { URN } from './scim-schemas.ts';
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

/** A Group body already read by resource-reader.ts -> the state it asks for; member ids in order, once each. */
export function groupStateOf(resource: Record<string, unknown>): GroupState {
  const members = resource.members as { value: string }[] | undefined;
  const externalId = resource.externalId;
  return {
    displayName: (resource.displayName as string).trim(),
    externalId: typeof externalId === 'string' && externalId !== '' ? externalId : null,
    ...(members !== undefined ? { memberIds: [...new Set(members.map((member) => member.value.trim()))] } : {}),
  };
}
