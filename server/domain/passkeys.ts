/**
 * Passkeys held by identities. A person may hold several. Every addition and removal lets each
 * listener (passed in by bootstrap.ts: the Okta registration flag, the person's security notice)
 * enqueue durable work in the same atomic write, so none of them can miss a change.
 */
import type { JobInput, PasskeyRecord, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { AppError } from './errors.ts';
import type { AuditLog } from './audit.ts';
import { translateStoreError } from './errors.ts';
import type { Actor } from './actor.ts';

export interface PasskeyChange {
  change: 'added' | 'removed';
  passkey: PasskeyRecord;
  actor: Actor;
  at: number;
  /** The User-Agent of the request that made the change, when it came over HTTP. */
  userAgent: string | null;
}

/** Durable work to record in the same write as a passkey change. */
export type PasskeyChangeJobs = (change: PasskeyChange) => Promise<JobInput[]> | JobInput[];

/** Where a change came from, beyond who made it. */
export interface ChangeContext {
  userAgent?: string | null;
}

export function createPasskeyService(deps: { store: Store; clock: Clock; audit: AuditLog; onChange?: PasskeyChangeJobs[] }) {
  const { store, clock, audit } = deps;
  const listeners = deps.onChange ?? [];

  async function jobsFor(change: PasskeyChange): Promise<JobInput[]> {
    return (await Promise.all(listeners.map((listener) => listener(change)))).flat();
  }

  async function add(passkey: Omit<PasskeyRecord, 'createdAt' | 'lastUsedAt'>, actor: Actor, context: ChangeContext = {}): Promise<PasskeyRecord> {
    const record: PasskeyRecord = { ...passkey, name: passkey.name.trim().slice(0, 64) || 'Passkey', createdAt: clock.now(), lastUsedAt: null };
    try {
      await store.passkeys.insert(record, { enqueue: await jobsFor({ change: 'added', passkey: record, actor, at: record.createdAt, userAgent: context.userAgent ?? null }) });
    } catch (error) {
      translateStoreError(error, 'a passkey');
    }
    await audit.record({ kind: 'enrollment', action: 'passkey.register', actor, target: `identity:${record.identityId}`, detail: { passkeyId: record.id, name: record.name, aaguid: record.aaguid, deviceType: record.deviceType } });
    return record;
  }

  async function require(id: string): Promise<PasskeyRecord> {
    const passkey = await store.passkeys.get(id);
    if (!passkey) throw new AppError('not_found', `no passkey with id "${id}"`);
    return passkey;
  }

  async function rename(id: string, name: string, actor: Actor): Promise<void> {
    const trimmed = typeof name === 'string' ? name.trim() : '';
    if (!trimmed) throw new AppError('invalid_input', 'a passkey name is required', { field: 'name' });
    if (!(await store.passkeys.rename(id, trimmed.slice(0, 64)))) throw new AppError('not_found', `no passkey with id "${id}"`);
    await audit.record({ action: 'passkey.rename', actor, target: `passkey:${id}` });
  }

  async function revoke(id: string, actor: Actor, context: ChangeContext = {}): Promise<PasskeyRecord> {
    const passkey = await require(id);
    await store.passkeys.delete(id, { enqueue: await jobsFor({ change: 'removed', passkey, actor, at: clock.now(), userAgent: context.userAgent ?? null }) });
    await audit.record({ action: 'passkey.revoke', actor, target: `identity:${passkey.identityId}`, detail: { passkeyId: id, name: passkey.name } });
    return passkey;
  }

  return {
    add,
    require,
    rename,
    revoke,
    get: (id: string) => store.passkeys.get(id),
    listFor: (identityId: string) => store.passkeys.listByIdentity(identityId),
  };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
