/**
 * Passkeys held by identities. A person may hold several. Every change that can flip whether a
 * person "has a passkey" lets a listener enqueue durable work in the same atomic write (the Okta
 * registration flag must never miss a change).
 */
import type { JobInput, PasskeyRecord, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { AppError } from './errors.ts';
import type { AuditLog } from './audit.ts';
import { actorKind, translateStoreError } from './identities.ts';

export type PasskeyChangeJobs = (identityId: string) => Promise<JobInput[]> | JobInput[];

export function createPasskeyService(deps: { store: Store; clock: Clock; audit: AuditLog; jobsOnChange?: PasskeyChangeJobs }) {
  const { store, clock, audit } = deps;
  let jobsOnChange: PasskeyChangeJobs = deps.jobsOnChange ?? (() => []);

  async function add(passkey: Omit<PasskeyRecord, 'createdAt' | 'lastUsedAt'>, actor: string): Promise<PasskeyRecord> {
    const record: PasskeyRecord = { ...passkey, name: passkey.name.trim().slice(0, 64) || 'Passkey', createdAt: clock.now(), lastUsedAt: null };
    try {
      await store.passkeys.insert(record, { enqueue: await jobsOnChange(record.identityId) });
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

  async function rename(id: string, name: string, actor: string): Promise<void> {
    const trimmed = typeof name === 'string' ? name.trim() : '';
    if (!trimmed) throw new AppError('invalid_input', 'a passkey name is required', { field: 'name' });
    if (!(await store.passkeys.rename(id, trimmed.slice(0, 64)))) throw new AppError('not_found', `no passkey with id "${id}"`);
    await audit.record({ kind: actorKind(actor), action: 'passkey.rename', actor, target: `passkey:${id}` });
  }

  async function revoke(id: string, actor: string): Promise<PasskeyRecord> {
    const passkey = await require(id);
    await store.passkeys.delete(id, { enqueue: await jobsOnChange(passkey.identityId) });
    await audit.record({ kind: actorKind(actor), action: 'passkey.revoke', actor, target: `identity:${passkey.identityId}`, detail: { passkeyId: id, name: passkey.name } });
    return passkey;
  }

  return {
    add,
    require,
    rename,
    revoke,
    get: (id: string) => store.passkeys.get(id),
    listFor: (identityId: string) => store.passkeys.listByIdentity(identityId),
    /** Wired later by the Okta edge: keeps the passkey domain free of any Okta knowledge. */
    onChange(listener: PasskeyChangeJobs) {
      jobsOnChange = listener;
    },
  };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
