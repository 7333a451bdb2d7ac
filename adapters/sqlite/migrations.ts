/**
 * Schema migrations for the embedded store.
 * - Append only: PRAGMA user_version records how many have run, so a released entry never changes.
 * - All pending migrations run in one IMMEDIATE transaction at open, so a server and a CLI opening
 *   a fresh file together cannot both migrate it: the second waits, then sees the new version.
 * - Every table has a `seq` AUTOINCREMENT key where the port promises creation order; ids stay
 *   TEXT UNIQUE so foreign keys can point at them.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { emailKey, userNameKey, userNameSkeleton } from '../../server/ports/identity-keys.ts';

export const migrations: readonly string[] = [
  // 1: initial schema
  `
  CREATE TABLE identities (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    user_name      TEXT NOT NULL,
    -- lowercased in JS, not with SQLite lower()/NOCASE, which only fold ASCII
    user_name_key  TEXT NOT NULL UNIQUE,
    email          TEXT NOT NULL,
    email_key      TEXT NOT NULL,
    email_verified INTEGER NOT NULL,
    given_name     TEXT,
    family_name    TEXT,
    display_name   TEXT,
    external_id    TEXT,
    okta_user_id   TEXT,
    locale         TEXT,
    active         INTEGER NOT NULL,
    roles          TEXT NOT NULL,
    attributes     TEXT NOT NULL,
    -- lowercased userName, email, displayName, given and family name: the search haystack
    search_text    TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL
  );
  CREATE INDEX identities_email_key ON identities (email_key);
  CREATE INDEX identities_external_id ON identities (external_id);
  CREATE INDEX identities_okta_user_id ON identities (okta_user_id);
  CREATE INDEX identities_active ON identities (active);

  CREATE TABLE groups (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT NOT NULL UNIQUE,
    display_name      TEXT NOT NULL,
    display_name_key  TEXT NOT NULL UNIQUE,
    external_id       TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    version           INTEGER NOT NULL
  );
  CREATE INDEX groups_external_id ON groups (external_id);

  CREATE TABLE group_members (
    group_id     TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    identity_id  TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, identity_id)
  ) WITHOUT ROWID;
  CREATE INDEX group_members_identity ON group_members (identity_id);

  CREATE TABLE passkeys (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    identity_id   TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    public_key    TEXT NOT NULL,
    counter       INTEGER NOT NULL,
    transports    TEXT NOT NULL,
    aaguid        TEXT NOT NULL,
    device_type   TEXT NOT NULL,
    backed_up     INTEGER NOT NULL,
    name          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
  );
  CREATE INDEX passkeys_identity ON passkeys (identity_id);

  CREATE TABLE apps (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT NOT NULL UNIQUE,
    kind                TEXT NOT NULL,
    name                TEXT NOT NULL,
    client_secret_enc   TEXT,
    redirect_uris       TEXT NOT NULL,
    okta_domain         TEXT,
    login_url           TEXT,
    icon_data_uri       TEXT,
    assigned_group_ids  TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
  );

  CREATE TABLE invites (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    identity_id  TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    spent_at     INTEGER,
    revoked_at   INTEGER,
    delivery     TEXT NOT NULL,
    send_state   TEXT,
    send_error   TEXT,
    created_by   TEXT NOT NULL
  );
  CREATE INDEX invites_identity ON invites (identity_id);

  CREATE TABLE signing_keys (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    kid              TEXT NOT NULL UNIQUE,
    alg              TEXT NOT NULL,
    private_jwk_enc  TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    retires_at       INTEGER
  );

  CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE oidc_models (
    model        TEXT NOT NULL,
    id           TEXT NOT NULL,
    payload      TEXT NOT NULL,
    expires_at   INTEGER,
    consumed_at  INTEGER,
    grant_id     TEXT,
    uid          TEXT,
    user_code    TEXT,
    account_id   TEXT,
    PRIMARY KEY (model, id)
  );
  CREATE INDEX oidc_models_grant ON oidc_models (grant_id);
  CREATE INDEX oidc_models_uid ON oidc_models (uid);
  CREATE INDEX oidc_models_user_code ON oidc_models (user_code);
  CREATE INDEX oidc_models_account ON oidc_models (account_id);
  -- for a sweeper: rows past expiry are already invisible to find()
  CREATE INDEX oidc_models_expires ON oidc_models (expires_at);

  CREATE TABLE one_time (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX one_time_expires ON one_time (expires_at);

  CREATE TABLE scim_tokens (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    last_used_at  INTEGER,
    revoked_at    INTEGER
  );

  CREATE TABLE audit (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT NOT NULL UNIQUE,
    at       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    action   TEXT NOT NULL,
    actor    TEXT NOT NULL,
    target   TEXT,
    outcome  TEXT NOT NULL,
    detail   TEXT NOT NULL
  );
  CREATE INDEX audit_at ON audit (at, seq);
  CREATE INDEX audit_kind ON audit (kind, at);
  CREATE INDEX audit_actor ON audit (actor, at);
  CREATE INDEX audit_target ON audit (target, at);

  CREATE TABLE jobs (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    queue         TEXT NOT NULL,
    key           TEXT NOT NULL,
    payload       TEXT NOT NULL,
    run_at        INTEGER NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    last_error    TEXT,
    locked_by     TEXT,
    locked_until  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (queue, key)
  );
  CREATE INDEX jobs_due ON jobs (queue, state, run_at);
  `,
  // 2: most oidc-provider rows carry only one or two of these lookup values; partial indexes skip
  // the NULLs, so each of the dozen writes of a sign-in maintains fewer index entries.
  `
  DROP INDEX oidc_models_grant;
  DROP INDEX oidc_models_uid;
  DROP INDEX oidc_models_user_code;
  DROP INDEX oidc_models_account;
  CREATE INDEX oidc_models_grant ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX oidc_models_uid ON oidc_models (uid) WHERE uid IS NOT NULL;
  CREATE INDEX oidc_models_user_code ON oidc_models (user_code) WHERE user_code IS NOT NULL;
  CREATE INDEX oidc_models_account ON oidc_models (account_id) WHERE account_id IS NOT NULL;
  `,
  // 3: signing-key lifecycle (activation time, revocation) and change notifications between processes.
  `
  ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER;
  UPDATE signing_keys SET activates_at = created_at;
  ALTER TABLE signing_keys ADD COLUMN revoked_at INTEGER;
  CREATE TABLE change_versions (
    topic    TEXT PRIMARY KEY,
    version  INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 4: SCIM filters and sources. displayName and every email address get indexed comparison keys
  // (latchkey_fold is caseKey, registered before migrating), updated/created times an index each;
  // `source` says who created a record. Existing rows get a best guess: an identity or group
  // with an externalId, or with a SCIM create in the audit log, came over SCIM; an identity with
  // an admin role or an admin-made create came from the console; anything else from the CLI.
  `
  ALTER TABLE identities ADD COLUMN display_name_key TEXT;
  UPDATE identities SET display_name_key = latchkey_fold(display_name);
  CREATE INDEX identities_display_name_key ON identities (display_name_key);
  CREATE INDEX identities_updated_at ON identities (updated_at);
  CREATE INDEX identities_created_at ON identities (created_at);
  CREATE TABLE identity_emails (
    identity_id  TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    email_key    TEXT NOT NULL,
    PRIMARY KEY (identity_id, email_key)
  ) WITHOUT ROWID;
  CREATE INDEX identity_emails_key ON identity_emails (email_key);
  INSERT OR IGNORE INTO identity_emails (identity_id, email_key) SELECT id, email_key FROM identities;
  INSERT OR IGNORE INTO identity_emails (identity_id, email_key)
    SELECT i.id, latchkey_fold(json_extract(e.value, '$.value')) FROM identities i, json_each(i.attributes, '$.emails') e
    WHERE json_type(e.value, '$.value') = 'text';
  ALTER TABLE identities ADD COLUMN source TEXT NOT NULL DEFAULT 'cli';
  UPDATE identities SET source = 'scim' WHERE external_id IS NOT NULL
    OR EXISTS (SELECT 1 FROM audit a WHERE a.target = 'identity:' || identities.id AND a.action = 'identity.create' AND a.kind = 'scim');
  UPDATE identities SET source = 'console' WHERE source = 'cli'
    AND EXISTS (SELECT 1 FROM audit a WHERE a.target = 'identity:' || identities.id AND a.action = 'identity.create' AND a.kind = 'admin');
  ALTER TABLE groups ADD COLUMN source TEXT NOT NULL DEFAULT 'cli';
  UPDATE groups SET source = 'scim' WHERE external_id IS NOT NULL
    OR EXISTS (SELECT 1 FROM audit a WHERE a.target = 'group:' || groups.id AND a.action = 'group.create' AND a.kind = 'scim');
  UPDATE groups SET source = 'console' WHERE source = 'cli'
    AND EXISTS (SELECT 1 FROM audit a WHERE a.target = 'group:' || groups.id AND a.action = 'group.create' AND a.kind = 'admin');
  `,
  // 5: per-app post-logout redirect URIs and client authentication (private_key_jwt); NULL = none / client secret.
  `
  ALTER TABLE apps ADD COLUMN post_logout_redirect_uris TEXT;
  ALTER TABLE apps ADD COLUMN client_auth TEXT;
  `,
  // 6: created is filtered without an index after all: each index costs every SCIM create a write.
  `
  DROP INDEX IF EXISTS identities_created_at;
  `,
  // 7: sessions record the passkey that opened them, so revoking the passkey ends them.
  `
  ALTER TABLE oidc_models ADD COLUMN passkey_id TEXT;
  CREATE INDEX oidc_models_passkey ON oidc_models (passkey_id) WHERE passkey_id IS NOT NULL;
  `,
  // 8: identity keys: userName and email compared after NFKC + case fold, email unique, and a unique
  // TR39 confusable skeleton of the userName (server/ports/identity-keys.ts; the latchkey_* SQL
  // functions are those, registered on every connection by registerKeyFunctions). Rows are
  // re-keyed oldest first; a younger row whose key an older one already holds keeps a placeholder
  // (" " + id: a real key is trimmed, so it never starts with a space) and, for email, loses
  // email_verified, so it no longer links at Okta until someone gives it its own address.
  `
  ALTER TABLE identities ADD COLUMN user_name_skeleton TEXT;
  DROP INDEX identities_email_key;
  UPDATE identities SET user_name_key = ' ' || id, email_key = ' ' || id;
  UPDATE identities SET user_name_key = k.value FROM (SELECT id, latchkey_user_name_key(user_name) AS value,
      row_number() OVER (PARTITION BY latchkey_user_name_key(user_name) ORDER BY seq) AS n FROM identities) k
    WHERE k.id = identities.id AND k.n = 1;
  UPDATE identities SET user_name_skeleton = k.value FROM (SELECT id, latchkey_user_name_skeleton(user_name) AS value,
      row_number() OVER (PARTITION BY latchkey_user_name_skeleton(user_name) ORDER BY seq) AS n FROM identities) k
    WHERE k.id = identities.id AND k.n = 1;
  UPDATE identities SET email_key = k.value FROM (SELECT id, latchkey_email_key(email) AS value,
      row_number() OVER (PARTITION BY latchkey_email_key(email) ORDER BY seq) AS n FROM identities) k
    WHERE k.id = identities.id AND k.n = 1;
  UPDATE identities SET email_verified = 0 WHERE email_key = ' ' || id;
  CREATE UNIQUE INDEX identities_email_key ON identities (email_key);
  CREATE UNIQUE INDEX identities_user_name_skeleton ON identities (user_name_skeleton);
  `,
  // 9: how each passkey attested at registration (authenticator policy): passkeys registered
  // before this was recorded count as attestation 'none', not attested.
  `
  ALTER TABLE passkeys ADD COLUMN attestation_format TEXT NOT NULL DEFAULT 'none';
  ALTER TABLE passkeys ADD COLUMN attested INTEGER NOT NULL DEFAULT 0;
  `,
  // 10: the imported FIDO Metadata Service BLOB (issue 16): one row, entries as JSON.
  `
  CREATE TABLE authenticator_metadata (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    no INTEGER NOT NULL,
    next_update TEXT NOT NULL,
    legal_header TEXT NOT NULL,
    signer TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    entries TEXT NOT NULL
  );
  `,
  // 11: indexes a SCIM create does not have to write. Only the deactivated are ever worth finding
  // through `active` (all-active is most rows: a scan reads them faster than the index did), and
  // only people linked to an Okta user through okta_user_id: both indexes now hold just those
  // rows, and a create of an active person with no Okta user id touches neither.
  // (IF EXISTS: a file set back to an older schema version runs this again.)
  `
  DROP INDEX IF EXISTS identities_active;
  CREATE INDEX IF NOT EXISTS identities_deactivated ON identities (active) WHERE active = 0;
  DROP INDEX IF EXISTS identities_okta_user_id;
  CREATE INDEX identities_okta_user_id ON identities (okta_user_id) WHERE okta_user_id IS NOT NULL;
  `,
  // 12: identity_emails no longer repeats the address the row's own email_key answers for (a row
  // still holding a placeholder key keeps its primary there): two B-trees less per create.
  `
  DELETE FROM identity_emails WHERE EXISTS (SELECT 1 FROM identities i WHERE i.id = identity_emails.identity_id AND i.email_key = identity_emails.email_key);
  `,
];

/** The JS key functions migrations call (SQLite cannot do NFKC, case folding or TR39). */
export function registerKeyFunctions(db: BetterSqlite3.Database): void {
  db.function('latchkey_user_name_key', { deterministic: true }, (value: unknown) => userNameKey(String(value)));
  db.function('latchkey_user_name_skeleton', { deterministic: true }, (value: unknown) => userNameSkeleton(String(value)));
  db.function('latchkey_email_key', { deterministic: true }, (value: unknown) => emailKey(String(value)));
}

export function migrate(db: BetterSqlite3.Database): void {
  registerKeyFunctions(db);
  const run = db.transaction(() => {
    // Read inside the transaction: another process may have migrated while we waited for the lock.
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > migrations.length) {
      throw new Error(
        `database schema version ${current} is newer than this build supports (${migrations.length}); upgrade Latchkey`,
      );
    }
    for (let version = current; version < migrations.length; version++) db.exec(migrations[version]);
    if (current !== migrations.length) db.pragma(`user_version = ${migrations.length}`);
  });
  run.immediate();
}
