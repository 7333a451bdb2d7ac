/**
 * oidc-provider models in SQLite.
 * - A model past expiresAt is treated as absent at once (expiresAt <= now); rows stay until swept.
 * - consume() is one conditional UPDATE, so exactly one of two racing calls wins; every finder
 *   then returns the payload with `consumed` (epoch seconds), which is how oidc-provider detects
 *   reuse of an authorization code (RFC 6749 §4.1.2).
 * - upsert() replaces payload, expiry and indexes, and clears the consumed mark.
 * - A model indexed with a passkeyId whose passkey no longer exists is not found: one read, even
 *   against a re-save racing the passkey's revocation.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { OidcModelChange, OidcModelIndexes, OidcModelRepository } from '../../server/ports/storage.ts';
import { groupCommit } from './group-commit.ts';
import { identityReader } from './identities.ts';

interface ModelRow {
  payload: string;
  consumed_at: number | null;
}

function toPayload(row: ModelRow | undefined): Record<string, unknown> | null {
  if (!row) return null;
  const payload = JSON.parse(row.payload) as Record<string, unknown>;
  // The port promises epoch seconds here: that is the unit oidc-provider itself writes.
  return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(row.consumed_at / 1000) };
}

const LIVE = '(expires_at IS NULL OR expires_at > @now)';
/** A session opened by a passkey that is gone is over: checked in the same read (ports/storage.ts). */
const OPENER_EXISTS = '(passkey_id IS NULL OR EXISTS (SELECT 1 FROM passkeys WHERE passkeys.id = oidc_models.passkey_id))';

/** The grants a provider Session holds, one per app it signed in to (oidc-provider's `authorizations`). */
function grantIdsOf(payload: Record<string, unknown>): string[] {
  const authorizations = payload.authorizations;
  if (!authorizations || typeof authorizations !== 'object') return [];
  return Object.values(authorizations as Record<string, { grantId?: unknown }>)
    .map((authorization) => authorization?.grantId)
    .filter((grantId): grantId is string => typeof grantId === 'string');
}

export function createOidcModelRepository(db: BetterSqlite3.Database): OidcModelRepository {
  const readIdentity = identityReader(db);
  const upsert = db.prepare(`
    INSERT INTO oidc_models (model, id, payload, expires_at, consumed_at, grant_id, uid, user_code, account_id, passkey_id)
    VALUES (@model, @id, @payload, @expiresAt, NULL, @grantId, @uid, @userCode, @accountId, @passkeyId)
    ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at,
      consumed_at = NULL, grant_id = excluded.grant_id, uid = excluded.uid, user_code = excluded.user_code,
      account_id = excluded.account_id, passkey_id = excluded.passkey_id`);
  const find = db.prepare<{ model: string; id: string; now: number }, ModelRow>(
    `SELECT payload, consumed_at FROM oidc_models WHERE model = @model AND id = @id AND ${LIVE} AND ${OPENER_EXISTS}`,
  );
  const findByUid = db.prepare<{ model: string; uid: string; now: number }, ModelRow>(
    `SELECT payload, consumed_at FROM oidc_models WHERE uid = @uid AND model = @model AND ${LIVE} AND ${OPENER_EXISTS} LIMIT 1`,
  );
  const findByUserCode = db.prepare<{ model: string; userCode: string; now: number }, ModelRow>(
    `SELECT payload, consumed_at FROM oidc_models WHERE user_code = @userCode AND model = @model AND ${LIVE} AND ${OPENER_EXISTS} LIMIT 1`,
  );
  const consume = db.prepare(`
    UPDATE oidc_models SET consumed_at = @now
    WHERE model = @model AND id = @id AND consumed_at IS NULL AND ${LIVE}`);
  const destroy = db.prepare('DELETE FROM oidc_models WHERE model = ? AND id = ?');
  const revokeByGrant = db.prepare('DELETE FROM oidc_models WHERE grant_id = ?');
  const revokeByAccount = db.prepare('DELETE FROM oidc_models WHERE account_id = ?');
  const openedBy = db.prepare<[string], { model: string; payload: string; grant_id: string | null }>('SELECT model, payload, grant_id FROM oidc_models WHERE passkey_id = ?');
  const revokeByPasskey = db.prepare('DELETE FROM oidc_models WHERE passkey_id = ?');
  // One transaction: no request can read a session whose grants are already gone, or the reverse.
  const revokePasskeySessions = db.transaction((passkeyId: string): number => {
    const rows = openedBy.all(passkeyId);
    const grants = new Set<string>();
    for (const row of rows) {
      if (row.grant_id) grants.add(row.grant_id);
      for (const grantId of grantIdsOf(JSON.parse(row.payload) as Record<string, unknown>)) grants.add(grantId);
    }
    revokeByPasskey.run(passkeyId);
    for (const grantId of grants) revokeByGrant.run(grantId);
    return rows.length;
  });

  function upsertOne(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null, indexes: OidcModelIndexes): void {
    upsert.run({
      model,
      id,
      payload: JSON.stringify(payload),
      expiresAt,
      grantId: indexes.grantId ?? null,
      uid: indexes.uid ?? null,
      userCode: indexes.userCode ?? null,
      accountId: indexes.accountId ?? null,
      passkeyId: indexes.passkeyId ?? null,
    });
  }
  const writeAll = db.transaction((changes: OidcModelChange[]) => {
    for (const change of changes) {
      if (change.op === 'upsert') upsertOne(change.model, change.id, change.payload, change.expiresAt, change.indexes);
      else destroy.run(change.model, change.id);
    }
  });

  // Concurrent sign-ins' held writes (one set per request, oidc.write) share a commit when they
  // arrive in the same turn: the pages they all touch (the tables' and indexes' last leaves) are
  // written to the WAL once. Each request's set still commits or fails as a whole (a savepoint).
  const writeGrouped = groupCommit(db, writeAll);

  // One read transaction: the model, its Session, its Grant and its account as of the same moment
  // (another process may write between statements), as the Redis script reads them.
  const findBound = db.transaction((model: string, id: string, now: number) => {
    const payload = toPayload(find.get({ model, id, now }));
    if (!payload) return null;
    const { sessionUid, grantId, accountId } = payload;
    return {
      payload,
      session: typeof sessionUid === 'string' ? toPayload(findByUid.get({ model: 'Session', uid: sessionUid, now })) : null,
      grant: typeof grantId === 'string' ? toPayload(find.get({ model: 'Grant', id: grantId, now })) : null,
      account: typeof accountId === 'string' ? readIdentity(accountId) : null,
    };
  });

  return {
    async upsert(model, id, payload, expiresAt, indexes) {
      upsertOne(model, id, payload, expiresAt, indexes);
    },
    async write(changes) {
      if (changes.length > 0) await writeGrouped(changes);
    },
    async find(model, id, now) {
      return toPayload(find.get({ model, id, now }));
    },
    async findByUid(model, uid, now) {
      return toPayload(findByUid.get({ model, uid, now }));
    },
    async findWithBindings(model, id, now) {
      return findBound.deferred(model, id, now);
    },
    async findByUserCode(model, userCode, now) {
      return toPayload(findByUserCode.get({ model, userCode, now }));
    },
    async consume(model, id, at) {
      return consume.run({ model, id, now: at }).changes > 0;
    },
    async destroy(model, id) {
      destroy.run(model, id);
    },
    async revokeByGrantId(grantId) {
      revokeByGrant.run(grantId);
    },
    async revokeByAccountId(accountId) {
      revokeByAccount.run(accountId);
    },
    async revokeByPasskeyId(passkeyId) {
      return revokePasskeySessions.immediate(passkeyId);
    },
  };
}
