/**
 * The one place tests build people, passkeys and SCIM tokens.
 * - `*Record` builders make plain store records (for storage-level tests and bulk seeding); every
 *   field is filled, so a new required field breaks one file, not twenty.
 * - The others go through the domain services, exactly as the CLI, SCIM or the console would,
 *   so rules (uniqueness, audit, outbox jobs) apply.
 * - `enrollPerson`/`enrolledPerson` create a real passkey through the enrollment endpoints of a
 *   real link (software authenticator); `addPasskey` writes a passkey row without a ceremony, for
 *   tests where only "this person has a passkey" matters (e.g. the Okta flag).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Services } from '../../server/bootstrap.ts';
import type { IdentityRecord, PasskeyRecord, ScimTokenRecord, Store } from '../../server/ports/storage.ts';
import type { IdentityInput } from '../../server/domain/identities.ts';
import { hashToken, randomToken } from '../../server/domain/secrets.ts';
import { CLI_ACTOR, selfActor, type Actor } from '../../server/domain/actor.ts';
import { createInviteService } from '../../server/domain/invites.ts';
import { SoftAuthenticator } from './soft-authenticator.ts';
import { enrollOverHttp } from './http-login.ts';

/** Audit actor of set-up steps: the operator's CLI, the root path. */
export const TEST_ACTOR: Actor = CLI_ACTOR;

type ServicesLike = Services | { services: Services };
const servicesOf = (target: ServicesLike): Services => ('identities' in target ? target : target.services);

// ---- plain records --------------------------------------------------------------------------

export function identityRecord(over: Partial<IdentityRecord> = {}): IdentityRecord {
  const id = over.id ?? randomUUID();
  const now = over.createdAt ?? Date.now();
  return {
    id,
    userName: `${id}@example.test`,
    email: over.userName ?? `${id}@example.test`,
    emailVerified: true,
    source: 'cli',
    givenName: null,
    familyName: null,
    displayName: null,
    externalId: null,
    oktaUserId: null,
    locale: null,
    active: true,
    roles: [],
    attributes: {},
    createdAt: now,
    updatedAt: now,
    version: 1,
    ...over,
  };
}

export function passkeyRecord(identityId: string, over: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return {
    id: randomBytes(16).toString('base64url'),
    identityId,
    publicKey: randomBytes(32).toString('base64url'),
    counter: 0,
    transports: ['internal'],
    aaguid: '00000000-0000-0000-0000-000000000000',
    deviceType: 'multiDevice',
    backedUp: true,
    attestationFormat: 'none',
    attested: false,
    name: 'Test passkey',
    createdAt: Date.now(),
    lastUsedAt: null,
    ...over,
  };
}

/** A SCIM token record with its secret, for states the service will not create (expired, revoked at a set time). */
export function scimTokenRecord(over: Partial<Omit<ScimTokenRecord, 'tokenHash'>> = {}): { token: string; record: ScimTokenRecord } {
  const token = randomToken();
  const now = Date.now();
  return { token, record: { id: randomUUID(), name: 'Okta SCIM Token', createdAt: now, expiresAt: now + 90 * 86_400_000, lastUsedAt: null, revokedAt: null, ...over, tokenHash: hashToken(token) } };
}

/** Writes a scimTokenRecord to the store; returns the bearer token and the record. */
export async function storeScimToken(store: Store, over: Partial<Omit<ScimTokenRecord, 'tokenHash'>> = {}) {
  const built = scimTokenRecord(over);
  await store.scimTokens.create(built.record);
  return built;
}

// ---- through the domain services ------------------------------------------------------------

export interface PersonOptions extends Partial<Omit<IdentityInput, 'userName'>> {
  /** Adds the person to this group. */
  groupId?: string;
  actor?: Actor;
}

/** A person named Alice Smith unless told otherwise; the userName doubles as email. */
export async function createPerson(target: ServicesLike, userName: string, options: PersonOptions = {}): Promise<IdentityRecord> {
  const services = servicesOf(target);
  const { groupId, actor = TEST_ACTOR, ...input } = options;
  const identity = await services.identities.create({ email: userName, givenName: 'Alice', familyName: 'Smith', ...input, userName }, actor);
  if (groupId) await services.groups.change(groupId, { members: { add: [identity.id] } }, actor);
  return identity;
}

/** `count` people "<prefix>01@acme.test"…, named Given<n> Family<n>, created in that order. */
export async function createPeople(target: ServicesLike, count: number, prefix = 'person', actor: Actor = CLI_ACTOR): Promise<IdentityRecord[]> {
  const services = servicesOf(target);
  const people: IdentityRecord[] = [];
  for (let index = 1; index <= count; index++) {
    const name = `${prefix}${String(index).padStart(2, '0')}`;
    people.push(await services.identities.create({ userName: `${name}@acme.test`, email: `${name}@acme.test`, givenName: `Given${index}`, familyName: `Family${index}` }, actor));
  }
  return people;
}

/** A passkey row for the person, written through the passkey service (audit and outbox jobs included). */
export async function addPasskey(target: ServicesLike, identityId: string, over: Partial<Omit<PasskeyRecord, 'identityId' | 'createdAt' | 'lastUsedAt'>> = {}) {
  const { createdAt: _createdAt, lastUsedAt: _lastUsedAt, ...record } = passkeyRecord(identityId, over);
  return servicesOf(target).passkeys.add(record, selfActor(identityId));
}

/** Enrolls a software passkey through the real enrollment endpoints of a fresh link. */
export async function enrollPerson(server: { url: string; services: Services }, identity: IdentityRecord, options: { authenticator?: SoftAuthenticator; name?: string } = {}) {
  const authenticator = options.authenticator ?? new SoftAuthenticator({ origin: server.url });
  const { url } = await server.services.invites.issue(identity, { actor: TEST_ACTOR, delivery: 'link' });
  const result = await enrollOverHttp(url, authenticator, { name: options.name });
  if (result.status !== 200) throw new Error(`enrollment of ${identity.userName} failed: ${result.status} ${JSON.stringify(result.body)}`);
  return { authenticator, passkeyId: result.response!.id as string };
}

/** A person (see createPerson) with a software passkey enrolled through the real endpoints. */
export async function enrolledPerson(server: { url: string; services: Services }, userName: string, groupIdOrOptions?: string | PersonOptions) {
  const options = typeof groupIdOrOptions === 'string' ? { groupId: groupIdOrOptions } : (groupIdOrOptions ?? {});
  const identity = await createPerson(server, userName, options);
  const { authenticator } = await enrollPerson(server, identity);
  return { identity, authenticator };
}

/** A SCIM bearer token as `latchkey scim-tokens create` makes it. */
export async function createScimToken(target: ServicesLike, name = 'Okta SCIM Token', actor: Actor = CLI_ACTOR) {
  return servicesOf(target).scimTokens.create({ name }, actor);
}

/**
 * An enrollment link that has already expired, without waiting for it: issued through the real
 * invite service on a clock an hour behind, with a ten-minute lifetime.
 */
export async function issueExpiredLink(target: ServicesLike, identity: IdentityRecord, actor: Actor = CLI_ACTOR) {
  const services = servicesOf(target);
  const anHourAgo = { now: () => services.clock.now() - 60 * 60_000 };
  const invites = createInviteService({ store: services.store, clock: anHourAgo, audit: services.audit, publicUrl: services.config.publicUrl, defaultTtlMs: services.config.enrollmentLinkTtlMs });
  return invites.issue(identity, { actor, delivery: 'link', ttlMs: 10 * 60_000 });
}
