/**
 * Apps in SQLite. List-valued fields are JSON columns: they are only ever read with their app.
 * update() of an app that does not exist throws 'not_found' rather than silently creating it.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError, type AppRecord, type AppRepository } from '../../server/ports/storage.ts';
import { withConstraints } from './constraint-errors.ts';

const FIELDS = { id: 'id' };

interface AppRow {
  id: string;
  kind: AppRecord['kind'];
  name: string;
  client_secret_enc: string | null;
  redirect_uris: string;
  post_logout_redirect_uris: string | null;
  client_auth: string | null;
  okta_domain: string | null;
  login_url: string | null;
  icon_data_uri: string | null;
  assigned_group_ids: string;
  created_at: number;
  updated_at: number;
}

function toRecord(row: AppRow): AppRecord {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    clientSecretEnc: row.client_secret_enc,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: row.post_logout_redirect_uris ? (JSON.parse(row.post_logout_redirect_uris) as string[]) : [],
    clientAuth: row.client_auth ? (JSON.parse(row.client_auth) as AppRecord['clientAuth']) : { method: 'client_secret' },
    oktaDomain: row.okta_domain,
    loginUrl: row.login_url,
    iconDataUri: row.icon_data_uri,
    assignedGroupIds: JSON.parse(row.assigned_group_ids) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toParams(app: AppRecord) {
  return {
    id: app.id,
    kind: app.kind,
    name: app.name,
    client_secret_enc: app.clientSecretEnc,
    redirect_uris: JSON.stringify(app.redirectUris),
    post_logout_redirect_uris: JSON.stringify(app.postLogoutRedirectUris),
    client_auth: JSON.stringify(app.clientAuth),
    okta_domain: app.oktaDomain,
    login_url: app.loginUrl,
    icon_data_uri: app.iconDataUri,
    assigned_group_ids: JSON.stringify(app.assignedGroupIds),
    created_at: app.createdAt,
    updated_at: app.updatedAt,
  };
}

export function createAppRepository(db: BetterSqlite3.Database): AppRepository {
  const insert = db.prepare(`
    INSERT INTO apps (id, kind, name, client_secret_enc, redirect_uris, post_logout_redirect_uris, client_auth, okta_domain,
      login_url, icon_data_uri, assigned_group_ids, created_at, updated_at)
    VALUES (@id, @kind, @name, @client_secret_enc, @redirect_uris, @post_logout_redirect_uris, @client_auth, @okta_domain,
      @login_url, @icon_data_uri, @assigned_group_ids, @created_at, @updated_at)`);
  const update = db.prepare(`
    UPDATE apps SET kind = @kind, name = @name, client_secret_enc = @client_secret_enc,
      redirect_uris = @redirect_uris, post_logout_redirect_uris = @post_logout_redirect_uris, client_auth = @client_auth,
      okta_domain = @okta_domain, login_url = @login_url,
      icon_data_uri = @icon_data_uri, assigned_group_ids = @assigned_group_ids, updated_at = @updated_at
    WHERE id = @id`);
  const byId = db.prepare<[string], AppRow>('SELECT * FROM apps WHERE id = ?');
  const all = db.prepare<[], AppRow>('SELECT * FROM apps ORDER BY seq');
  const remove = db.prepare('DELETE FROM apps WHERE id = ?');

  return {
    async create(app) {
      withConstraints(FIELDS, () => insert.run(toParams(app)));
    },
    async get(id) {
      const row = byId.get(id);
      return row ? toRecord(row) : null;
    },
    async list() {
      return all.all().map(toRecord);
    },
    async update(app) {
      if (update.run(toParams(app)).changes === 0) throw new StoreError('not_found', `app ${app.id} does not exist`);
    },
    async delete(id) {
      return remove.run(id).changes > 0;
    },
  };
}
