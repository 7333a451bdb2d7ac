/**
 * Groups decide who may sign in to which app. displayName is unique case-insensitively (Okta's
 * Push Groups fails on a name collision, and the admin must see that as a conflict).
 */
import { randomUUID } from 'node:crypto';
import type { GroupFilter, GroupRecord, MembershipChange, Page, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { AppError } from './errors.ts';
import type { AuditLog } from './audit.ts';
import { translateStoreError } from './errors.ts';
import type { Actor } from './actor.ts';
import { sourceOf } from './identities.ts';

function validateName(displayName: unknown): string {
  if (typeof displayName !== 'string' || displayName.trim() === '') {
    throw new AppError('invalid_input', 'displayName is required', { field: 'displayName' });
  }
  if (displayName.length > 256) throw new AppError('invalid_input', 'displayName is longer than 256 characters', { field: 'displayName' });
  return displayName.trim();
}

export function createGroupService(deps: { store: Store; clock: Clock; audit: AuditLog }) {
  const { store, clock, audit } = deps;

  async function require(id: string): Promise<GroupRecord> {
    const group = await store.groups.get(id);
    if (!group) throw new AppError('not_found', `no group with id "${id}"`);
    return group;
  }

  /** Accepts an id or a display name. */
  async function resolve(idOrName: string): Promise<GroupRecord> {
    const group = (await store.groups.getByDisplayName(idOrName)) ?? (await store.groups.get(idOrName));
    if (!group) throw new AppError('not_found', `no group "${idOrName}"`);
    return group;
  }

  async function create(input: { displayName: string; externalId?: string | null; memberIds?: string[] }, actor: Actor): Promise<GroupRecord> {
    const now = clock.now();
    const group: GroupRecord = {
      id: randomUUID(),
      displayName: validateName(input.displayName),
      externalId: input.externalId ?? null,
      source: sourceOf(actor),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    try {
      await store.groups.create(group, input.memberIds ?? []);
    } catch (error) {
      translateStoreError(error, 'a group');
    }
    await audit.record({ action: 'group.create', actor, target: `group:${group.id}`, detail: { displayName: group.displayName, members: input.memberIds?.length ?? 0 } });
    return group;
  }

  /** One atomic change of name and membership: a multi-operation PATCH lands whole or not at all. */
  async function change(
    id: string,
    changes: { displayName?: string; externalId?: string | null; members?: MembershipChange },
    actor: Actor,
    expectedVersion?: number,
  ): Promise<GroupRecord> {
    const current = await require(id);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new AppError('stale', 'group was changed by someone else; read it again and retry');
    }
    const next: GroupRecord = {
      ...current,
      displayName: changes.displayName !== undefined ? validateName(changes.displayName) : current.displayName,
      externalId: changes.externalId !== undefined ? changes.externalId : current.externalId,
      updatedAt: clock.now(),
    };
    let saved: GroupRecord;
    try {
      saved = await store.groups.update(next, current.version, changes.members);
    } catch (error) {
      translateStoreError(error, 'a group');
    }
    await audit.record({
      action: 'group.update',
      actor,
      target: `group:${id}`,
      detail: { displayName: saved.displayName, renamed: saved.displayName !== current.displayName, members: summarize(changes.members) },
    });
    return saved;
  }

  async function remove(id: string, actor: Actor): Promise<void> {
    const group = await require(id);
    await store.groups.delete(id);
    // Assignments pointing at a deleted group would silently grant nothing; drop them.
    for (const app of await store.apps.list()) {
      if (app.assignedGroupIds.includes(id)) {
        await store.apps.update({ ...app, assignedGroupIds: app.assignedGroupIds.filter((groupId) => groupId !== id), updatedAt: clock.now() });
      }
    }
    await audit.record({ action: 'group.delete', actor, target: `group:${id}`, detail: { displayName: group.displayName } });
  }

  async function list(query: { filter?: GroupFilter; search?: string; offset: number; limit: number }): Promise<Page<GroupRecord>> {
    return store.groups.query(query);
  }

  return {
    require,
    resolve,
    create,
    change,
    remove,
    list,
    members: (id: string) => store.groups.members(id),
    memberCounts: (ids: string[]) => store.groups.memberCounts(ids),
    groupIdsOf: (identityId: string) => store.groups.groupIdsOf(identityId),
  };
}

function summarize(members: MembershipChange | undefined): Record<string, number> | undefined {
  if (!members) return undefined;
  return { set: members.set?.length ?? 0, add: members.add?.length ?? 0, remove: members.remove?.length ?? 0 };
}

export type GroupService = ReturnType<typeof createGroupService>;
