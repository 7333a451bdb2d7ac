/**
 * Identities in SQLite.
 * - user_name_key, user_name_skeleton and email_key carry the uniqueness (identity-keys.ts: NFKC +
 *   case fold, TR39 skeleton) through unique indexes; search_text is the search haystack. All are
 *   derived here on every write so they cannot go stale.
 * - identity_emails holds every other address of a person (SCIM emails[]), keyed the same way, so
 *   `email eq` finds anyone by any address: email_key answers for the primary (one index write
 *   per create instead of two more B-trees), identity_emails for the rest, and for the primary
 *   too while the row holds a placeholder key (below).
 * - A row that lost its claim to a key when migration 3 found an older row with the same one keeps
 *   its placeholder key (" " + id) until its userName or email actually changes, so the rest of it
 *   (deactivation, profile) stays editable.
 * - create() appends its audit event (WriteOptions.audit) in the same transaction; creates arriving
 *   in the same turn of the event loop share one commit, each in its own savepoint (group-commit.ts).
 * - Deleting an identity cascades (foreign keys) to its passkeys, invites and memberships.
 * - update() checks the version and writes inside one IMMEDIATE transaction: the write lock is
 *   taken before the read, so another process cannot slip a write in between.
 * - update() keeps the stored createdAt; everything else comes from the caller's record.
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  StoreError,
  type AuditEvent,
  type EnrollmentStatus,
  type IdentityRecord,
  type IdentityQuery,
  type IdentityRepository,
  type Page,
} from '../../server/ports/storage.ts';
import { addressesOf, candidateFilter, identitySortValue, leafValues, matchesIdentity, sortRecords } from '../../server/ports/record-filter.ts';
import { toFlag, withConstraints } from './constraint-errors.ts';
import { emailKey, userNameKey, userNameSkeleton } from '../../server/ports/identity-keys.ts';
import { HAS_OPEN_INVITE, HAS_PASSKEY, foldCase, identityWhere, orderSql, type SqlFragment } from './identity-query.ts';
import type { JobWriter } from './jobs.ts';
import { createAuditWriter, type AuditWriter } from './audit.ts';
import { createStatementCache, limitSql } from './statement-cache.ts';
import { groupCommit } from './group-commit.ts';

const FIELDS = { id: 'id', user_name_key: 'userName', user_name_skeleton: 'userNameSkeleton', email_key: 'email' };

export interface IdentityRow {
  id: string;
  user_name: string;
  user_name_key: string;
  user_name_skeleton: string | null;
  email: string;
  email_key: string;
  email_verified: number;
  given_name: string | null;
  family_name: string | null;
  display_name: string | null;
  external_id: string | null;
  okta_user_id: string | null;
  locale: string | null;
  active: number;
  roles: string;
  attributes: string;
  source: IdentityRecord['source'];
  created_at: number;
  updated_at: number;
  version: number;
}

function toRecord(row: IdentityRow): IdentityRecord {
  return {
    id: row.id,
    userName: row.user_name,
    email: row.email,
    emailVerified: row.email_verified === 1,
    givenName: row.given_name,
    familyName: row.family_name,
    displayName: row.display_name,
    externalId: row.external_id,
    oktaUserId: row.okta_user_id,
    locale: row.locale,
    active: row.active === 1,
    roles: JSON.parse(row.roles) as string[],
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

function toParams(identity: IdentityRecord) {
  const searchable = [identity.userName, identity.email, identity.displayName, identity.givenName, identity.familyName];
  return {
    id: identity.id,
    user_name: identity.userName,
    user_name_key: userNameKey(identity.userName),
    user_name_skeleton: userNameSkeleton(identity.userName) as string | null,
    email: identity.email,
    email_key: emailKey(identity.email),
    email_verified: toFlag(identity.emailVerified),
    given_name: identity.givenName,
    family_name: identity.familyName,
    display_name: identity.displayName,
    display_name_key: identity.displayName === null ? null : foldCase(identity.displayName),
    external_id: identity.externalId,
    okta_user_id: identity.oktaUserId,
    locale: identity.locale,
    active: toFlag(identity.active),
    roles: JSON.stringify(identity.roles),
    attributes: JSON.stringify(identity.attributes),
    source: identity.source,
    // Newline-separated so a search term cannot match across two fields.
    search_text: searchable.filter((part): part is string => !!part).map(foldCase).join('\n'),
    created_at: identity.createdAt,
    updated_at: identity.updatedAt,
    version: identity.version,
  };
}

/** identities.get() as a synchronous read: the repository's own, and a read transaction of another repository's (oidc-models.ts). */
export function identityReader(db: BetterSqlite3.Database): (id: string) => IdentityRecord | null {
  const byId = db.prepare<[string], IdentityRow>('SELECT * FROM identities WHERE id = ?');
  return (id) => {
    const row = byId.get(id);
    return row ? toRecord(row) : null;
  };
}

export function createIdentityRepository(db: BetterSqlite3.Database, writeJobs: JobWriter, writeAudit: AuditWriter = createAuditWriter(db)): IdentityRepository {
  const insert = db.prepare(`
    INSERT INTO identities (id, user_name, user_name_key, user_name_skeleton, email, email_key, email_verified, given_name,
      family_name, display_name, display_name_key, external_id, okta_user_id, locale, active, roles, attributes,
      source, search_text, created_at, updated_at, version)
    VALUES (@id, @user_name, @user_name_key, @user_name_skeleton, @email, @email_key, @email_verified, @given_name,
      @family_name, @display_name, @display_name_key, @external_id, @okta_user_id, @locale, @active, @roles,
      @attributes, @source, @search_text, @created_at, @updated_at, @version)`);
  const update = db.prepare(`
    UPDATE identities SET user_name = @user_name, user_name_key = @user_name_key,
      user_name_skeleton = @user_name_skeleton, email = @email,
      email_key = @email_key, email_verified = @email_verified, given_name = @given_name,
      family_name = @family_name, display_name = @display_name, display_name_key = @display_name_key,
      external_id = @external_id,
      okta_user_id = @okta_user_id, locale = @locale, active = @active, roles = @roles,
      attributes = @attributes, search_text = @search_text, updated_at = @updated_at, version = @version
    WHERE id = @id`);
  const byId = db.prepare<[string], IdentityRow>('SELECT * FROM identities WHERE id = ?');
  const readIdentity = identityReader(db);
  const byUserName = db.prepare<[string], IdentityRow>('SELECT * FROM identities WHERE user_name_key = ?');
  // The same order as groups.groupIdsOf (group creation order).
  const groupIdsOf = db.prepare<[string], string>(`
    SELECT gm.group_id FROM group_members gm JOIN groups g ON g.id = gm.group_id
    WHERE gm.identity_id = ? ORDER BY g.seq`).pluck();
  const remove = db.prepare('DELETE FROM identities WHERE id = ?');
  const clearEmails = db.prepare('DELETE FROM identity_emails WHERE identity_id = ?');
  const addEmail = db.prepare('INSERT OR IGNORE INTO identity_emails (identity_id, email_key) VALUES (?, ?)');
  /** The row's email_key already answers for its own address: identity_emails holds the others. */
  const writeEmails = (identity: IdentityRecord, storedEmailKey: string, replace: boolean) => {
    if (replace) clearEmails.run(identity.id);
    for (const key of addressesOf(identity)) if (key !== storedEmailKey) addEmail.run(identity.id, key);
  };
  const insertWithEmails = db.transaction((identity: IdentityRecord, event: AuditEvent | undefined) => {
    const params = toParams(identity);
    insert.run(params);
    writeEmails(identity, params.email_key, false);
    writeAudit(event);
  });
  const membersOf = db.prepare<[string], string>('SELECT identity_id FROM group_members WHERE group_id = ?').pluck();
  const statuses = db.prepare<[number, string], { id: string; status: EnrollmentStatus }>(`
    SELECT i.id, CASE WHEN ${HAS_PASSKEY} THEN 'enrolled' WHEN ${HAS_OPEN_INVITE} THEN 'pending'
      ELSE 'unenrolled' END AS status
    FROM identities i WHERE i.id IN (SELECT value FROM json_each(?))`);

  const updateChecked = db.transaction((identity: IdentityRecord, expectedVersion: number): IdentityRecord => {
    const current = byId.get(identity.id);
    if (!current) throw new StoreError('not_found', `identity ${identity.id} does not exist`);
    if (current.version !== expectedVersion) {
      throw new StoreError('stale', `identity ${identity.id} is at version ${current.version}, not ${expectedVersion}`);
    }
    const written = { ...identity, createdAt: current.created_at, version: expectedVersion + 1 };
    const params = toParams(written);
    // An unchanged value keeps the key it holds (see the header: migrated duplicates).
    if (current.user_name === written.userName) {
      params.user_name_key = current.user_name_key;
      params.user_name_skeleton = current.user_name_skeleton;
    }
    if (current.email === written.email) params.email_key = current.email_key;
    update.run(params);
    writeEmails(written, params.email_key, true);
    return written;
  });
  const deleteWithJobs = db.transaction((id: string, jobs: Parameters<JobWriter>[0]): boolean => {
    if (remove.run(id).changes === 0) return false;
    writeJobs(jobs);
    return true;
  });
  const statement = createStatementCache(db);
  const planOf = (query: IdentityQuery) => {
    const candidates = query.filter ? candidateFilter(query.filter, () => true) : { filter: null, exact: true };
    return { exact: candidates.exact, where: identityWhere({ ...query, filter: candidates.filter }) };
  };
  const pageRows = (where: SqlFragment, sort: IdentityQuery['sort'], offset: number, limit: number) =>
    statement(`SELECT i.* FROM identities i ${where.sql} ${orderSql(sort)} ${limitSql(limit, offset)}`).all(...where.params) as IdentityRow[];
  // A short page that started inside the result is its end: the total is known without a count
  // (Okta's lookup before every create finds 0 or 1 of up to 100). A caller that asked for no
  // exact total (exactTotal: false) gets what the page shows.
  const endsResult = (rows: IdentityRow[], offset: number, limit: number, query: IdentityQuery) =>
    (rows.length < limit && (offset === 0 || rows.length > 0)) || query.exactTotal === false;
  const page = db.transaction((query: IdentityQuery, offset: number, limit: number): Page<IdentityRecord> => {
    const { exact, where } = planOf(query);
    if (exact) {
      const rows = pageRows(where, query.sort, offset, limit);
      const total = endsResult(rows, offset, limit, query) ? offset + rows.length : (statement(`SELECT count(*) AS n FROM identities i ${where.sql}`).get(...where.params) as { n: number }).n;
      return { items: rows.map(toRecord), total };
    }
    // A predicate no SQL can answer: decide over the candidates the SQL part leaves.
    const related = new Map(leafValues(query.filter, 'group').map((groupId) => [groupId, new Set(membersOf.all(groupId))]));
    const rows = statement(`SELECT i.* FROM identities i ${where.sql} ORDER BY i.seq`).all(...where.params) as IdentityRow[];
    let matched = rows.map(toRecord).filter((identity) => matchesIdentity(query.filter!, identity, related));
    if (query.sort) matched = sortRecords(matched, query.sort, identitySortValue);
    return { items: matched.slice(offset, offset + limit), total: matched.length };
  });

  /**
   * SQLite may report the skeleton index before the key index; an exact duplicate is reported as
   * a userName conflict on every store, the skeleton only when the names merely look alike.
   */
  function refineConflict<T>(identity: IdentityRecord, write: () => T): T {
    try {
      return withConstraints(FIELDS, write);
    } catch (error) {
      if (error instanceof StoreError && error.field === 'userNameSkeleton') {
        const holder = byUserName.get(userNameKey(identity.userName));
        if (holder && holder.id !== identity.id) throw new StoreError('conflict', 'userName is already taken', 'userName');
      }
      throw error;
    }
  }

  const insertGrouped = groupCommit(db, insertWithEmails);

  return {
    async create(identity, options) {
      await insertGrouped(identity, options?.audit).catch((error: unknown) =>
        refineConflict(identity, () => {
          throw error;
        }),
      );
    },
    async get(id) {
      return readIdentity(id);
    },
    async getWithGroupIds(id) {
      const identity = readIdentity(id);
      return identity ? { identity, groupIds: groupIdsOf.all(id) } : null;
    },
    async getByUserName(userName) {
      const row = byUserName.get(userNameKey(userName));
      return row ? toRecord(row) : null;
    },
    async update(identity, expectedVersion) {
      return refineConflict(identity, () => updateChecked.immediate(identity, expectedVersion));
    },
    async delete(id, options) {
      return deleteWithJobs.immediate(id, options?.enqueue);
    },
    async query(query) {
      const offset = Math.max(0, Math.floor(query.offset));
      const limit = Math.max(0, Math.floor(query.limit));
      // One statement reads one snapshot: a page that tells its own total needs no transaction.
      const { exact, where } = planOf(query);
      if (exact) {
        const rows = pageRows(where, query.sort, offset, limit);
        if (endsResult(rows, offset, limit, query)) return { items: rows.map(toRecord), total: offset + rows.length };
      }
      // Count and page read one snapshot, so total always describes the items returned.
      return page.deferred(query, offset, limit);
    },
    async statuses(ids, now) {
      const result = new Map<string, EnrollmentStatus>();
      for (const row of statuses.all(now, JSON.stringify(ids))) result.set(row.id, row.status);
      return result;
    },
  };
}
