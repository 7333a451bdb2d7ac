/** Records and constants shared by the storage contract suites (see store-contract.ts). */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import {
  StoreError,
  type AppRecord,
  type AuditEvent,
  type GroupRecord,
  type IdentityRecord,
  type InviteRecord,
  type JobInput,
  type PasskeyRecord,
  type Store,
  type StoreErrorCode,
} from '../../server/ports/storage.ts';
import { identityRecord } from '../support/builders.ts';

export const NOW = Date.now();
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

const run = randomUUID().slice(0, 8);
let serial = 0;
/** Unique per call; ids made in a row sort in reverse, so ordering by id instead of creation shows. */
export const unique = (prefix: string): string => `${prefix}-${run}-${(1e6 - ++serial).toString().padStart(7, '0')}`;

export function identity(over: Partial<IdentityRecord> = {}): IdentityRecord {
  const id = over.id ?? unique('idn');
  // The email stays derived from the id (not the userName) so case variants of one userName differ.
  return identityRecord({ id, email: `${id}@example.test`, createdAt: NOW, updatedAt: NOW, ...over });
}

export function group(over: Partial<GroupRecord> = {}): GroupRecord {
  const id = over.id ?? unique('grp');
  return { id, displayName: `Group ${id}`, externalId: null, source: 'cli', createdAt: NOW, updatedAt: NOW, version: 1, ...over };
}

export function passkey(identityId: string, over: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return {
    id: unique('cred'),
    identityId,
    publicKey: 'pQECAyYgASFYIG',
    counter: 0,
    transports: ['internal', 'hybrid'],
    aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd',
    deviceType: 'multiDevice',
    backedUp: true,
    attestationFormat: 'none',
    attested: false,
    name: 'iCloud Keychain',
    createdAt: NOW,
    lastUsedAt: null,
    ...over,
  };
}

export function invite(identityId: string, over: Partial<InviteRecord> = {}): InviteRecord {
  return {
    id: unique('inv'),
    identityId,
    tokenHash: unique('hash'),
    createdAt: NOW,
    expiresAt: NOW + HOUR,
    spentAt: null,
    revokedAt: null,
    delivery: 'link',
    sendState: null,
    sendError: null,
    createdBy: 'cli',
    ...over,
  };
}

export function app(over: Partial<AppRecord> = {}): AppRecord {
  return {
    id: unique('app'),
    kind: 'oidc',
    name: 'Wiki',
    clientSecretEnc: 'enc:v1:abc',
    redirectUris: ['https://wiki.example.test/cb'],
    postLogoutRedirectUris: [],
    clientAuth: { method: 'client_secret' },
    oktaDomain: null,
    loginUrl: null,
    iconDataUri: null,
    assignedGroupIds: [],
    createdAt: NOW,
    updatedAt: NOW,
    ...over,
  };
}

export function auditEvent(over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: unique('evt'),
    at: NOW,
    kind: 'admin',
    action: 'identity.create',
    actor: 'cli',
    target: null,
    outcome: 'success',
    detail: {},
    ...over,
  };
}

export function job(over: Partial<JobInput> = {}): JobInput {
  return { queue: 'mail', key: unique('job'), payload: { n: 1 }, runAt: NOW, ...over };
}

export async function expectStoreError(promise: Promise<unknown>, code: StoreErrorCode, field?: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected StoreError('${code}')`).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  if (field !== undefined) expect((error as StoreError).field).toBe(field);
}

/** Of racing calls, exactly `winners` fulfil with a truthy value; the rest lose (false/null/rejection). */
export async function expectWinners(calls: Promise<unknown>[], winners = 1): Promise<PromiseSettledResult<unknown>[]> {
  const results = await Promise.allSettled(calls);
  expect(results.filter((r) => r.status === 'fulfilled' && r.value).length).toBe(winners);
  return results;
}

export const ids = (records: { id: string }[]): string[] => records.map((r) => r.id);
export const sorted = (values: string[]): string[] => [...values].sort();

/** What each contract suite gets: the fresh store of the running test. */
export interface ContractContext {
  readonly store: Store;
  /** The store deletes expired rows on its own (native TTLs), so sweepExpired has nothing to do. */
  readonly reclaimsExpiredItself: boolean;
  markClosed(): void;
  createIdentities(...records: IdentityRecord[]): Promise<IdentityRecord[]>;
}
