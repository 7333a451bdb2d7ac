/**
 * Identities: the people who sign in. Rules kept here, once, for every edge (CLI, SCIM, console):
 * - userName is required, stored NFKC-normalised, and unique after NFKC + case folding; a userName
 *   that merely looks like another (same Unicode TR39 skeleton) is refused too. The store enforces
 *   both atomically (server/ports/identity-keys.ts);
 * - email is required, an address, and unique after the same normalisation: two people sharing
 *   one would let Okta link either login to either account;
 * - emailVerified is decided here, never taken from input: true for an address Okta provisioned
 *   over SCIM or that the person proved by using an enrollment link emailed to it; any other
 *   change of the address (console, CLI) makes it unverified, and revokes the links still open,
 *   which were sent to the old one;
 * - deactivating ends every session and grant at once, not at their next expiry;
 * - what a SCIM token may do to admins is scim-authority.ts, checked here for every write;
 * - `id` is opaque and never changes: it is the OIDC `sub`, Okta's link key.
 */
import { randomUUID } from 'node:crypto';
import { emailKey } from '../ports/identity-keys.ts';
import { StoreError, type JobInput, type EnrollmentStatus, type IdentityQuery, type IdentityRecord, type Page, type RecordSource, type Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { AppError, translateStoreError } from './errors.ts';
import { selfActor, type Actor } from './actor.ts';
import type { AuditLog } from './audit.ts';
import { createScimAuthority, type PrivilegedScimChangeListener } from './scim-authority.ts';

export interface IdentityInput {
  userName: string;
  email: string;
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

export function createIdentityService(deps: {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  onDelete?: IdentityDeleteJobs[];
  /** Told about every SCIM change to an identity holding a role (see scim-authority.ts). */
  onPrivilegedScimChange?: PrivilegedScimChangeListener[];
}) {
  const { store, clock, audit } = deps;
  const scimAuthority = createScimAuthority({ store, clock, audit, onPrivilegedChange: deps.onPrivilegedScimChange });
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
      userName: canonicalUserName(input.userName),
      email: input.email.trim(),
      emailVerified: vouchesForEmail(actor),
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
    // The audit event is written with the identity: one commit (SQLite) or one script (Redis).
    const logged = audit.event({ action: 'identity.create', actor, target: `identity:${identity.id}`, detail: { userName: identity.userName } });
    try {
      await store.identities.create(identity, { audit: logged });
    } catch (error) {
      translateIdentityConflict(error, identity);
    }
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
      if (value !== undefined && key !== 'emailVerified') (next as unknown as Record<string, unknown>)[key] = value;
    }
    validate(next);
    next.userName = canonicalUserName(next.userName);
    next.email = next.email.trim();
    const emailMoved = emailKey(next.email) !== emailKey(current.email);
    if (changes.email !== undefined && vouchesForEmail(actor)) next.emailVerified = true;
    else if (emailMoved) next.emailVerified = false;
    next.updatedAt = clock.now();
    await scimAuthority.checkUpdate(current, next, actor);
    let saved: IdentityRecord;
    try {
      saved = await store.identities.update(next, current.version);
    } catch (error) {
      translateIdentityConflict(error, next);
    }
    if (emailMoved) await revokeOpenInvites(id);
    if (current.active && !saved.active) await store.oidc.revokeByAccountId(id);
    const action = current.active !== saved.active ? (saved.active ? 'identity.activate' : 'identity.deactivate') : 'identity.update';
    await audit.record({ action, actor, target: `identity:${id}`, detail: { userName: saved.userName, changed: Object.keys(changes) } });
    await scimAuthority.reportChange(current, saved, changedFields(current, saved), actor);
    return saved;
  }

  /** Links already sent went to the old address: whoever reads that mailbox must not enroll. */
  async function revokeOpenInvites(identityId: string): Promise<void> {
    const now = clock.now();
    for (const invite of await store.invites.listByIdentity(identityId)) {
      if (invite.spentAt === null && invite.revokedAt === null && invite.expiresAt > now) await store.invites.revoke(invite.id, now);
    }
  }

  /**
   * The person used a link emailed to their current address (open links are revoked whenever the
   * address changes, so a sent one went to this address): the address is theirs.
   */
  async function confirmEmail(id: string, inviteId: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await require(id);
      if (current.emailVerified) return;
      try {
        await store.identities.update({ ...current, emailVerified: true, updatedAt: clock.now() }, current.version);
      } catch (error) {
        if (error instanceof StoreError && error.code === 'stale') continue;
        throw error;
      }
      await audit.record({ kind: 'enrollment', action: 'identity.email_verified', actor: selfActor(id), target: `identity:${id}`, detail: { inviteId } });
      return;
    }
  }

  async function remove(id: string, actor: Actor): Promise<void> {
    const identity = await require(id);
    await scimAuthority.checkRemove(identity, actor);
    await store.oidc.revokeByAccountId(id);
    await store.identities.delete(id, { enqueue: await jobsOnDelete(identity) });
    await audit.record({ action: 'identity.delete', actor, target: `identity:${id}`, detail: { userName: identity.userName } });
    await scimAuthority.reportChange(identity, null, [], actor);
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
    confirmEmail,
    remove,
    list,
    status,
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

/** NFKC, so "josé" typed precomposed or decomposed is stored the same; case is kept for display. */
export function canonicalUserName(userName: string): string {
  return userName.normalize('NFKC').trim();
}

/** The record fields a write actually changed (bookkeeping left out). */
function changedFields(before: IdentityRecord, after: IdentityRecord): string[] {
  const ignored = new Set(['version', 'updatedAt', 'createdAt']);
  return Object.keys(after).filter((key) => !ignored.has(key) && JSON.stringify(before[key as keyof IdentityRecord]) !== JSON.stringify(after[key as keyof IdentityRecord]));
}

/** Okta provisioned the address over SCIM: Okta vouches for it. Nobody else does. */
function vouchesForEmail(actor: Actor): boolean {
  return actor.kind === 'scim';
}

/** Each unique key gets a message that says what collided and how names are compared. */
function translateIdentityConflict(error: unknown, identity: IdentityRecord): never {
  if (error instanceof StoreError && error.code === 'conflict') {
    const messages: Record<string, string> = {
      userName: `userName "${identity.userName}" is already in use (userNames are compared after Unicode NFKC normalisation and case folding)`,
      userNameSkeleton: `userName "${identity.userName}" looks the same as an existing userName (same Unicode TR39 confusable skeleton); choose a distinguishable one`,
      email: `email "${identity.email}" is already used by another identity (addresses are compared after Unicode NFKC normalisation and case folding)`,
    };
    const message = error.field ? messages[error.field] : undefined;
    if (message) throw new AppError('conflict', message, { field: error.field === 'email' ? 'email' : 'userName', cause: error });
  }
  translateStoreError(error, 'an identity');
}

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
