/**
 * The one storage port. Every adapter (adapters/sqlite, adapters/redis) implements all of it and
 * passes test/contract. Rules every adapter keeps:
 * - Each method is atomic on its own: a caller never sees half of one call's writes.
 * - Uniqueness (userName, group displayName, both case-insensitive) is enforced here, so two
 *   instances racing on the same name cannot both win. Violations throw StoreError('conflict').
 * - Optimistic concurrency: update() takes the version the caller read and throws
 *   StoreError('stale') when the record moved on, so read-modify-write never loses a change.
 * - Times are epoch milliseconds. Secrets arrive already hashed or encrypted: adapters never see
 *   a clear one-time token.
 * - Lists have a stable order: creation order (a per-collection sequence), then id.
 */

import type { ExportItem, ExportOptions, ImportCounts, ImportOptions } from './store-export.ts';

export type StoreErrorCode = 'conflict' | 'stale' | 'not_found';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** For conflicts: which unique attribute collided (e.g. "userName", "displayName"). */
  readonly field?: string;
  constructor(code: StoreErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
    this.field = field;
  }
}

// ---------------------------------------------------------------- identities

export interface IdentityRecord {
  id: string;
  userName: string;
  email: string;
  emailVerified: boolean;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  externalId: string | null;
  /** Okta's own user id once known (from SCIM or a lookup); used to flag byndidRegistered. */
  oktaUserId: string | null;
  locale: string | null;
  active: boolean;
  roles: string[];
  /** Extra SCIM attributes kept verbatim (emails[], phoneNumbers[], ...). Never a password. */
  attributes: Record<string, unknown>;
  /** Who created the record; never changes afterwards. */
  source: RecordSource;
  createdAt: number;
  updatedAt: number;
  version: number;
}

/** Where a record was created: pushed over SCIM, in the admin console, or with the CLI. */
export type RecordSource = 'scim' | 'console' | 'cli';

/**
 * Filter trees (the semantics are defined once, in record-filter.ts). A leaf compares one record
 * attribute (`op` defaults to eq); `where` is a predicate no index can answer, evaluated in memory.
 * Adapters answer what their indexes can and may evaluate the rest over the candidates.
 */
export type FilterOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le' | 'pr';
export type FilterValue = string | number | boolean;
export type RecordFilter<A extends string, R> =
  | { attr: A; op?: FilterOperator; value?: FilterValue }
  | { op: 'and' | 'or'; filters: RecordFilter<A, R>[] }
  | { op: 'not'; filter: RecordFilter<A, R> }
  | { where: (record: R) => boolean; describe: string };

/**
 * userName, email (any of the identity's addresses), displayName, givenName, familyName and locale
 * compare case-insensitively; createdAt/updatedAt are epoch ms; group = member of that group id.
 */
export type IdentityFilterAttr =
  | 'id' | 'userName' | 'externalId' | 'email' | 'active' | 'oktaUserId' | 'displayName' | 'givenName'
  | 'familyName' | 'locale' | 'createdAt' | 'updatedAt' | 'source' | 'group';
export type IdentityFilter = RecordFilter<IdentityFilterAttr, IdentityRecord>;

/** Ordering of a query; ties (and unassigned values, which sort last) fall back to creation order. */
export interface SortOrder<A extends string> {
  attr: A;
  descending?: boolean;
}

export type IdentitySortAttr = Exclude<IdentityFilterAttr, 'group'>;

export type EnrollmentStatus = 'unenrolled' | 'pending' | 'enrolled';

export interface IdentityQuery {
  filter?: IdentityFilter;
  sort?: SortOrder<IdentitySortAttr>;
  /** Derived at query time from passkeys and invites (see InviteRecord for "pending"). */
  status?: EnrollmentStatus;
  groupId?: string;
  /** Case-insensitive substring of userName, email, displayName, given or family name. */
  search?: string;
  role?: string;
  /** 0-based offset. */
  offset: number;
  limit: number;
  /** "now" for status derivation (invite expiry). */
  now: number;
  /**
   * false: the caller only asks whether anything matches, so total may be a lower bound
   * (offset + items.length) and the store may skip counting every match (a scan on SQLite).
   */
  exactTotal?: boolean;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface IdentityRepository {
  /** options.audit is appended in the same atomic write (see WriteOptions). */
  create(identity: IdentityRecord, options?: WriteOptions): Promise<void>;
  get(id: string): Promise<IdentityRecord | null>;
  /**
   * The identity with the ids of the groups it belongs to (as groups.groupIdsOf), read together in
   * one round trip: a sign-in decides on both (active, assigned to the app).
   */
  getWithGroupIds(id: string): Promise<{ identity: IdentityRecord; groupIds: string[] } | null>;
  getByUserName(userName: string): Promise<IdentityRecord | null>;
  /** Writes identity with version = expectedVersion + 1. */
  update(identity: IdentityRecord, expectedVersion: number): Promise<IdentityRecord>;
  /** Removes the identity with its passkeys, invites and group memberships. */
  delete(id: string, options?: WriteOptions): Promise<boolean>;
  query(query: IdentityQuery): Promise<Page<IdentityRecord>>;
  /** Enrollment status of each given identity, derived the same way as query({status}). */
  statuses(ids: string[], now: number): Promise<Map<string, EnrollmentStatus>>;
}

// ---------------------------------------------------------------- groups

export interface GroupRecord {
  id: string;
  displayName: string;
  externalId: string | null;
  source: RecordSource;
  createdAt: number;
  updatedAt: number;
  version: number;
}

/** displayName compares case-insensitively; member = has that identity id as a member. */
export type GroupFilterAttr = 'id' | 'displayName' | 'externalId' | 'member' | 'createdAt' | 'updatedAt' | 'source';
export type GroupFilter = RecordFilter<GroupFilterAttr, GroupRecord>;
export type GroupSortAttr = Exclude<GroupFilterAttr, 'member'>;

export interface GroupQuery {
  filter?: GroupFilter;
  sort?: SortOrder<GroupSortAttr>;
  search?: string;
  offset: number;
  limit: number;
}

export interface MembershipChange {
  /** Replace the whole member list (wins over add/remove when given). */
  set?: string[];
  add?: string[];
  remove?: string[];
}

export interface GroupRepository {
  /** Member ids that name no identity are ignored, not fatal. */
  create(group: GroupRecord, memberIds: string[]): Promise<void>;
  get(id: string): Promise<GroupRecord | null>;
  getByDisplayName(displayName: string): Promise<GroupRecord | null>;
  /** Record and membership change applied together; version checked as for identities. */
  update(group: GroupRecord, expectedVersion: number, members?: MembershipChange): Promise<GroupRecord>;
  delete(id: string): Promise<boolean>;
  query(query: GroupQuery): Promise<Page<GroupRecord>>;
  members(groupId: string): Promise<string[]>;
  /** How many members each group has, without reading the member lists (list pages). */
  memberCounts(groupIds: string[]): Promise<Map<string, number>>;
  groupIdsOf(identityId: string): Promise<string[]>;
}

// ---------------------------------------------------------------- passkeys

export interface PasskeyRecord {
  /** The WebAuthn credential id, base64url. */
  id: string;
  identityId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  aaguid: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  /**
   * The attestation statement format at registration (WebAuthn L3 §8: 'packed', 'tpm', 'apple',
   * 'android-key', ... or 'none'); 'none' for passkeys registered before it was recorded.
   */
  attestationFormat: string;
  /**
   * True only when the attestation chain was verified against a root that vouches for the model:
   * its metadata statement's roots (packed, tpm, android-key) or Apple's (apple); see
   * edges/webauthn/attestation-result.ts.
   */
  attested: boolean;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** Lets a write enqueue a job in the same atomic step (transactional outbox). */
export interface WriteOptions {
  enqueue?: JobInput[];
  /**
   * The change's audit event, appended in the same atomic step: a change is never logged without
   * having happened, and one write (one commit, one round trip) instead of two.
   */
  audit?: AuditEvent;
}

export interface PasskeyRepository {
  /** Throws StoreError('conflict', field 'id') if the credential id is already registered. */
  insert(passkey: PasskeyRecord, options?: WriteOptions): Promise<void>;
  get(id: string): Promise<PasskeyRecord | null>;
  listByIdentity(identityId: string): Promise<PasskeyRecord[]>;
  /**
   * Records a successful assertion. Only applies if the stored counter is still
   * expectedCounter, so two racing assertions cannot both move it (returns false then).
   */
  recordUse(id: string, expectedCounter: number, newCounter: number, usedAt: number): Promise<boolean>;
  rename(id: string, name: string): Promise<boolean>;
  delete(id: string, options?: WriteOptions): Promise<boolean>;
}

// ---------------------------------------------------------------- apps

export type AppKind = 'okta' | 'oidc' | 'bookmark';

/**
 * How an OIDC client authenticates at the token endpoint. private_key_jwt (RFC 7523, OIDC Core
 * §9): it signs an assertion with its own key; we hold its public JWKS inline or its jwks_uri.
 */
export type ClientAuth =
  | { method: 'client_secret' }
  | { method: 'private_key_jwt'; jwks: { keys: Record<string, unknown>[] } | null; jwksUri: string | null };

export interface AppRecord {
  id: string;
  kind: AppKind;
  name: string;
  /** OIDC apps: client secret encrypted with the instance secret (recoverable for the console). */
  clientSecretEnc: string | null;
  redirectUris: string[];
  /** Where RP-initiated logout may return (OIDC RP-Initiated Logout §3); exact match. */
  postLogoutRedirectUris: string[];
  clientAuth: ClientAuth;
  oktaDomain: string | null;
  /** Bookmark apps. */
  loginUrl: string | null;
  iconDataUri: string | null;
  assignedGroupIds: string[];
  createdAt: number;
  updatedAt: number;
}

export interface AppRepository {
  create(app: AppRecord): Promise<void>;
  get(id: string): Promise<AppRecord | null>;
  list(): Promise<AppRecord[]>;
  update(app: AppRecord): Promise<void>;
  delete(id: string): Promise<boolean>;
}

// ---------------------------------------------------------------- invites (enrollment links)

export interface InviteRecord {
  id: string;
  identityId: string;
  /** sha256 of the link secret, hex. The secret itself is never stored. */
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  spentAt: number | null;
  revokedAt: number | null;
  delivery: 'link' | 'email';
  /** Email deliveries: queued -> sent | failed. */
  sendState: 'queued' | 'sent' | 'failed' | null;
  sendError: string | null;
  createdBy: string;
}

export interface InviteRepository {
  /** Inserts the invite and, in the same step, revokes every other unspent invite of the identity. */
  create(invite: InviteRecord, options?: WriteOptions): Promise<void>;
  get(id: string): Promise<InviteRecord | null>;
  getByTokenHash(tokenHash: string): Promise<InviteRecord | null>;
  listByIdentity(identityId: string): Promise<InviteRecord[]>;
  /** Spends it only if unspent, unrevoked and unexpired at `at`; true when this call spent it. */
  spend(id: string, at: number): Promise<boolean>;
  revoke(id: string, at: number): Promise<boolean>;
  setSendState(id: string, state: 'queued' | 'sent' | 'failed', error: string | null): Promise<void>;
}

// ---------------------------------------------------------------- signing keys & settings

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** The private JWK, JSON, encrypted with the instance secret. */
  privateJwkEnc: string;
  createdAt: number;
  /** From then on it signs; before, it is only published (domain/next-key-set.ts decides). */
  activatesAt: number;
  /** Set by `keys revoke`: unpublished and its tokens refused from then on. */
  revokedAt: number | null;
}

export interface SigningKeyRepository {
  /** In insertion order (oldest first). */
  list(): Promise<SigningKeyRecord[]>;
  insert(key: SigningKeyRecord): Promise<void>;
  /** False if no such key. */
  setActivatesAt(kid: string, activatesAt: number): Promise<boolean>;
  /** False if no such key. */
  setRevokedAt(kid: string, revokedAt: number): Promise<boolean>;
  delete(kid: string): Promise<boolean>;
}

export interface SettingsRepository {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  /** Stores value only if key is absent; returns what is stored (race-safe first start). */
  setIfAbsent(key: string, value: string): Promise<string>;
  /**
   * Stores value only if the stored value is still `expected` (null: absent), in one atomic step;
   * false when another writer got there first (read again and retry). Read-modify-write of a
   * setting (the passkey policy) never loses a concurrent change this way.
   */
  compareAndSet(key: string, expected: string | null, value: string): Promise<boolean>;
}

// ---------------------------------------------------------------- authenticator metadata (FIDO MDS3)

/** One FIDO2 entry of a verified MDS3 BLOB (FIDO Metadata Service v3.0 §3.1.1), kept as FIDO wrote it. */
export interface AuthenticatorMetadataEntry {
  aaguid: string;
  /** The metadata statement (FIDO Metadata Statement v3.0 §4): description, icon, attestationRootCertificates, ... */
  metadataStatement: Record<string, unknown> | null;
  /** Newest last or first as FIDO lists them; readers sort by effectiveDate (MDS3 §3.1.3). */
  statusReports: { status: string; effectiveDate?: string; [field: string]: unknown }[];
  timeOfLastStatusChange: string | null;
}

/** The imported BLOB: one per store, replaced only by a BLOB with a higher serial number. */
export interface AuthenticatorMetadataRecord {
  /** The BLOB's serial number (MDS3 §3.1.6 `no`). */
  no: number;
  /** When FIDO publishes the next BLOB (YYYY-MM-DD, MDS3 §3.1.6 `nextUpdate`). */
  nextUpdate: string;
  legalHeader: string;
  /** Subject of the certificate that signed the BLOB. */
  signer: string;
  importedAt: number;
  entries: AuthenticatorMetadataEntry[];
}

export interface AuthenticatorMetadataRepository {
  get(): Promise<AuthenticatorMetadataRecord | null>;
  /** The stored BLOB's `no` without reading its entries (a cheap "did it change?"). */
  currentNo(): Promise<number | null>;
  /**
   * Stores the BLOB unless one with the same or a higher `no` is stored (MDS3 §3.1.6: a relying
   * party ignores a BLOB whose no is not greater than the last one). Atomic: of two racing
   * imports only a higher `no` ends up stored. Returns the `no` stored afterwards.
   */
  replace(record: AuthenticatorMetadataRecord): Promise<{ stored: boolean; currentNo: number }>;
}

// ---------------------------------------------------------------- oidc-provider models

export interface OidcModelIndexes {
  grantId?: string;
  userCode?: string;
  uid?: string;
  accountId?: string;
  /** The passkey that opened a session (provider Session, ConsoleSession): revoking it ends them. */
  passkeyId?: string;
}

export interface ModelWithBindings {
  payload: Record<string, unknown>;
  session: Record<string, unknown> | null;
  grant: Record<string, unknown> | null;
  /** The identity the payload's `accountId` names (as identities.get answers), null when not named or not found. */
  account: IdentityRecord | null;
}

/** One change of write(): an upsert or a destroy with the arguments of those methods. */
export type OidcModelChange =
  | { op: 'upsert'; model: string; id: string; payload: Record<string, unknown>; expiresAt: number | null; indexes: OidcModelIndexes }
  | { op: 'destroy'; model: string; id: string };

export interface OidcModelRepository {
  upsert(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null, indexes: OidcModelIndexes): Promise<void>;
  /**
   * Applies the changes in order, all or none, in one round trip: each exactly as the upsert() or
   * destroy() it stands for (the provider's writes of one request: a grant, its code and the
   * session that holds them commit together).
   */
  write(changes: OidcModelChange[]): Promise<void>;
  /**
   * The stored payload, or null when absent or expired, or when it was written with a passkeyId
   * index and that passkey no longer exists (a session opened by a revoked passkey is over, even
   * if a re-save raced the revocation; checked in the same round trip). Once consumed, the
   * returned payload carries `consumed: <epoch seconds of consumption>` (what oidc-provider
   * checks), for find, findByUid and findByUserCode alike.
   */
  find(model: string, id: string, now: number): Promise<Record<string, unknown> | null>;
  findByUid(model: string, uid: string, now: number): Promise<Record<string, unknown> | null>;
  /**
   * find(), and in the same round trip what a code or token is bound to: the Session it was
   * issued in (by its payload's `sessionUid`, as findByUid('Session') answers) and its Grant (by
   * `grantId`, as find('Grant') answers), each null when not named or not found. oidc-provider
   * checks both on every use of a code or an access token, then loads the account, which comes
   * along too: every use of a code or token sees the person as of the same moment.
   */
  findWithBindings(model: string, id: string, now: number): Promise<ModelWithBindings | null>;
  findByUserCode(model: string, userCode: string, now: number): Promise<Record<string, unknown> | null>;
  /** Marks consumed; true only for the one call that consumed it first. */
  consume(model: string, id: string, at: number): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
  /** Removes every session, grant and token of an account (deactivation ends sessions at once). */
  revokeByAccountId(accountId: string): Promise<void>;
  /**
   * In one atomic step, removes every model indexed with this passkeyId (the sessions it opened)
   * and everything indexed by a grant those sessions hold: the grantId index of each removed row,
   * and for provider sessions each `authorizations[*].grantId` of their payload (grants, codes,
   * tokens). Returns how many sessions were removed.
   */
  revokeByPasskeyId(passkeyId: string): Promise<number>;
}

// ---------------------------------------------------------------- one-time values

export interface OneTimeRepository {
  put(key: string, value: string, expiresAt: number): Promise<void>;
  /** Returns the value and deletes it in one step; null if absent or expired. */
  take(key: string, now: number): Promise<string | null>;
}

// ---------------------------------------------------------------- SCIM tokens

export interface ScimTokenRecord {
  id: string;
  name: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface ScimTokenRepository {
  create(token: ScimTokenRecord): Promise<void>;
  list(): Promise<ScimTokenRecord[]>;
  getByHash(tokenHash: string): Promise<ScimTokenRecord | null>;
  touch(id: string, at: number): Promise<void>;
  revoke(id: string, at: number): Promise<boolean>;
}

// ---------------------------------------------------------------- audit log

export interface AuditEvent {
  id: string;
  at: number;
  /** e.g. "admin", "scim", "auth", "enrollment", "okta-sync", "cli". */
  kind: string;
  action: string;
  /** Who: "cli", "scim-token:<id>", "identity:<id>". */
  actor: string;
  /** Whom or what: "identity:<id>", "group:<id>", "app:<id>". */
  target: string | null;
  outcome: 'success' | 'failure';
  detail: Record<string, unknown>;
}

export interface AuditRepository {
  append(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(query: { kind?: string; actor?: string; target?: string; since?: number; until?: number; limit: number }): Promise<AuditEvent[]>;
}

// ---------------------------------------------------------------- durable job queue

export interface JobInput {
  queue: string;
  /** At most one pending job per (queue, key): enqueueing again replaces its payload (newest wins). */
  key: string;
  payload: Record<string, unknown>;
  runAt: number;
}

export interface JobRecord extends JobInput {
  id: string;
  state: 'pending' | 'done' | 'failed';
  attempts: number;
  /** Bumped by every enqueue that replaces the payload; complete() compares it. */
  revision: number;
  lastError: string | null;
  lockedBy: string | null;
  lockedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface JobQueue {
  enqueue(job: JobInput): Promise<void>;
  /**
   * Takes one due pending job whose lease is free, leasing it to `worker` until now + leaseMs.
   * Only one worker (across every instance) holds a job at a time.
   */
  lease(queue: string, worker: string, now: number, leaseMs: number): Promise<JobRecord | null>;
  /**
   * Ends a leased job. If it was re-enqueued since the lease (revision moved on), it is released
   * and stays pending so the newer payload is delivered too; returns false then.
   */
  complete(id: string, worker: string, revision: number, now: number): Promise<boolean>;
  /** Gives the job back for another try at runAt (attempts + 1). Enqueue resets attempts to 0. */
  retry(id: string, worker: string, runAt: number, error: string, now: number): Promise<boolean>;
  fail(id: string, worker: string, error: string, now: number): Promise<boolean>;
  get(queue: string, key: string): Promise<JobRecord | null>;
  list(queue: string, state: JobRecord['state'] | undefined, limit: number): Promise<JobRecord[]>;
  counts(queue: string): Promise<Record<JobRecord['state'], number>>;
  /**
   * The earliest time a pending job of the queue may next be leased (its runAt, or its lease end
   * while leased), or null when none is pending. Cheap (an index read): /metrics asks at every scrape.
   */
  oldestDue(queue: string): Promise<number | null>;
}

// ---------------------------------------------------------------- change notifications

/**
 * A listener hears of a publish from any process sharing the store (another instance, the CLI)
 * within this bound, even when a notification itself was lost (a reconnect): adapters back their
 * fast path (Redis pub/sub, SQLite's data_version) with a version check at least this often.
 */
export const CHANGE_DELIVERY_MS = 2_000;

/**
 * "Something under this topic changed: read it again", told to every process sharing the store.
 * Carries no data (the store is the truth), so a listener called twice or spuriously (after a
 * reconnect) only re-reads. Topics are short names such as "signing-keys".
 */
export interface ChangeNotifications {
  publish(topic: string): Promise<void>;
  /** Returns a function that stops the listener. Listeners run in this process, never throw into it. */
  subscribe(topic: string, listener: () => void): () => void;
}

// ---------------------------------------------------------------- the store

export interface Store {
  readonly kind: 'sqlite' | 'redis';
  identities: IdentityRepository;
  groups: GroupRepository;
  passkeys: PasskeyRepository;
  apps: AppRepository;
  invites: InviteRepository;
  signingKeys: SigningKeyRepository;
  settings: SettingsRepository;
  authenticatorMetadata: AuthenticatorMetadataRepository;
  oidc: OidcModelRepository;
  oneTime: OneTimeRepository;
  scimTokens: ScimTokenRepository;
  audit: AuditRepository;
  jobs: JobQueue;
  changes: ChangeNotifications;
  /** Throws unless the backing store can write and read back right now (readiness). */
  ping(): Promise<void>;
  /** True for an error that means the store cannot answer now (disk full, Redis down), not a bug. */
  unavailable(error: unknown): boolean;
  /**
   * Deletes oidc-provider models and one-time values expired at `now` (they are already invisible
   * to reads); returns how many. Stores with native expiry (Redis TTLs) may return 0.
   */
  sweepExpired(now: number): Promise<number>;
  /** Every record from one consistent point in time, in the portable format (backup, migrate). */
  exportAll(options: ExportOptions): AsyncIterable<ExportItem>;
  /** Writes exported records keeping ids, versions, times, counters and job states. */
  importAll(items: AsyncIterable<ExportItem> | Iterable<ExportItem>, options?: ImportOptions): Promise<ImportCounts>;
  close(): Promise<void>;
}
