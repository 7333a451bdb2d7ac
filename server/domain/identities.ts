/**
 * Identities: the people who sign in. Rules kept here, once, for every edge (CLI, SCIM, console):
 * - userName is required and unique case-insensitively (the store enforces it atomically);
 * - email is required and syntactically an address; it is the claim Okta links accounts by;
 * - deactivating ends every session and grant at once, not at their next expiry;
 * - `id` is opaque and never changes: it is the OIDC `sub`, Okta's link key.
 */
import { randomUUID } from 'node:crypto';
import type { JobInput, EnrollmentStatus, IdentityQuery, IdentityRecord, Page, RecordSource, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { AppError, translateStoreError } from './errors.ts';
import type { Actor } from './actor.ts';
import type { AuditLog } from './audit.ts';

export interface IdentityInput {
  userName: string;
  email: string;
  emailVerified?: boolean;
  givenName?: string | null;
  familyName?: string | null;
  displayName?: string | null;
  externalId?: string | null;
  oktaUserId?: string | null;
  locale?: string | null;
  active?: boolean;
  roles?: string[];
  attributes?: Record<string, unknown>;
}

export type IdentityChanges = Partial<IdentityInput>;

const emailPattern = /^[^\s@]+@[^\s@]+$/;

export interface IdentityWithStatus extends IdentityRecord {
  enrollmentStatus: EnrollmentStatus;
}

function validate(input: { userName: string; email: string }): void {
  if (typeof input.userName !== 'string' || input.userName.trim() === '') {
    throw new AppError('invalid_input', 'userName is required', { field: 'userName' });
  }
  if (input.userName.length > 256) throw new AppError('invalid_input', 'userName is longer than 256 characters', { field: 'userName' });
  if (typeof input.email !== 'string' || !emailPattern.test(input.email)) {
    throw new AppError('invalid_input', `email "${String(input.email)}" is not an email address`, { field: 'email' });
  }
}

/** Durable work to record in the same write that deletes an identity (e.g. clearing its Okta flag). */
export type IdentityDeleteJobs = (identity: IdentityRecord) => Promise<JobInput[]> | JobInput[];

export function createIdentityService(deps: { store: Store; clock: Clock; audit: AuditLog; onDelete?: IdentityDeleteJobs[] }) {
  const { store, clock, audit } = deps;
  const deleteListeners = deps.onDelete ?? [];
  const jobsOnDelete = async (identity: IdentityRecord) => (await Promise.all(deleteListeners.map((listener) => listener(identity)))).flat();

  async function require(id: string): Promise<IdentityRecord> {
    const identity = await store.identities.get(id);
    if (!identity) throw new AppError('not_found', `no identity with id "${id}"`);
    return identity;
  }

  async function findByUserName(userName: string): Promise<IdentityRecord | null> {
    return store.identities.getByUserName(userName);
  }

  /** Accepts an id or a userName: what an operator types on the CLI. */
  async function resolve(idOrUserName: string): Promise<IdentityRecord> {
    const identity = (await store.identities.getByUserName(idOrUserName)) ?? (await store.identities.get(idOrUserName));
    if (!identity) throw new AppError('not_found', `no identity "${idOrUserName}"`);
    return identity;
  }

  async function create(input: IdentityInput, actor: Actor): Promise<IdentityRecord> {
    validate(input);
    const now = clock.now();
    const identity: IdentityRecord = {
      id: randomUUID(),
      userName: input.userName.trim(),
      email: input.email.trim(),
      emailVerified: input.emailVerified ?? true,
      givenName: input.givenName ?? null,
      familyName: input.familyName ?? null,
      displayName: input.displayName ?? null,
      externalId: input.externalId ?? null,
      oktaUserId: input.oktaUserId ?? null,
      locale: input.locale ?? null,
      active: input.active ?? true,
      roles: input.roles ?? [],
      attributes: input.attributes ?? {},
      source: sourceOf(actor),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    try {
      await store.identities.create(identity);
    } catch (error) {
      translateStoreError(error, 'an identity');
    }
    await audit.record({ action: 'identity.create', actor, target: `identity:${identity.id}`, detail: { userName: identity.userName } });
    return identity;
  }

  /**
   * Applies changes to the version the caller read (or the current one). Deactivation revokes
   * sessions and grants in the same call so no request can slip in with an old session.
   */
  async function update(id: string, changes: IdentityChanges, actor: Actor, expectedVersion?: number): Promise<IdentityRecord> {
    const current = await require(id);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw new AppError('stale', 'identity was changed by someone else; read it again and retry');
    }
    const next: IdentityRecord = { ...current };
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
    }
    next.userName = next.userName.trim();
    validate(next);
    next.updatedAt = clock.now();
    let saved: IdentityRecord;
    try {
      saved = await store.identities.update(next, current.version);
    } catch (error) {
      translateStoreError(error, 'an identity');
    }
    if (current.active && !saved.active) await store.oidc.revokeByAccountId(id);
    const action = current.active !== saved.active ? (saved.active ? 'identity.activate' : 'identity.deactivate') : 'identity.update';
    await audit.record({ action, actor, target: `identity:${id}`, detail: { userName: saved.userName, changed: Object.keys(changes) } });
    return saved;
  }

  async function remove(id: string, actor: Actor): Promise<void> {
    const identity = await require(id);
    await store.oidc.revokeByAccountId(id);
    await store.identities.delete(id, { enqueue: await jobsOnDelete(identity) });
    await audit.record({ action: 'identity.delete', actor, target: `identity:${id}`, detail: { userName: identity.userName } });
  }

  async function list(query: Omit<IdentityQuery, 'now'>): Promise<Page<IdentityWithStatus>> {
    const page = await store.identities.query({ ...query, now: clock.now() });
    const statuses = await store.identities.statuses(page.items.map((identity) => identity.id), clock.now());
    return { total: page.total, items: page.items.map((identity) => ({ ...identity, enrollmentStatus: statuses.get(identity.id) ?? 'unenrolled' })) };
  }

  async function status(id: string): Promise<EnrollmentStatus> {
    return (await store.identities.statuses([id], clock.now())).get(id) ?? 'unenrolled';
  }

  return {
    require,
    resolve,
    findByUserName,
    create,
    update,
    remove,
    list,
    status,
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

/** Where a record created by `actor` came from: a SCIM token, the console (a person), or the CLI. */
export function sourceOf(actor: Actor): RecordSource {
  if (actor.kind === 'scim') return 'scim';
  if (actor.kind === 'admin' || actor.kind === 'self') return 'console';
  return 'cli';
}

export function displayNameOf(identity: Pick<IdentityRecord, 'displayName' | 'givenName' | 'familyName' | 'userName'>): string {
  const joined = [identity.givenName, identity.familyName].filter(Boolean).join(' ');
  return identity.displayName || joined || identity.userName;
}
