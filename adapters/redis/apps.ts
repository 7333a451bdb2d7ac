/**
 * Apps in Redis: one hash per app, listed in creation order. update() of an app that does not
 * exist throws 'not_found' rather than silently creating it, and keeps the stored createdAt.
 */
import type { Redis } from 'ioredis';
import { StoreError, type AppRecord, type AppRepository } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';
import { DELETE_INDEXED, INSERT_UNIQUE } from './records.ts';
import { decodeHash, decodeList, defineScript, fail, fieldArgs, HSET_IF_EXISTS, LIST_BY_INDEX } from './script.ts';

/** Apps stored before these fields existed: no post-logout URIs, client secret authentication. */
const withDefaults = (app: AppRecord | null): AppRecord | null =>
  app && { ...app, postLogoutRedirectUris: app.postLogoutRedirectUris ?? [], clientAuth: app.clientAuth ?? { method: 'client_secret' } };

export function createAppRepository(redis: Redis, keys: Keys): AppRepository {
  const s = (name: string, body: string) => defineScript(redis, keys.prefix, `latchkeyApps${name}`, body);
  const insert = s('Insert', INSERT_UNIQUE);
  const remove = s('Delete', DELETE_INDEXED);
  const hsetIfExists = s('HsetIfExists', HSET_IF_EXISTS);
  const listByIndex = s('ListByIndex', LIST_BY_INDEX);

  return {
    async create(app) {
      const reply = await insert(keys.app(app.id), app.id, keys.appsAll(), keys.key('apps', 'seq'), 'id', 0, ...fieldArgs(app));
      fail(reply, `app ${app.id}`);
    },
    async get(id) {
      return withDefaults(decodeHash<AppRecord>(await redis.hgetall(keys.app(id))));
    },
    async list() {
      return decodeList<AppRecord>(await listByIndex(keys.appsAll(), keys.app(''))).map((app) => withDefaults(app)!);
    },
    async update(app) {
      const { createdAt: _createdAt, ...rest } = app;
      if ((await hsetIfExists(keys.app(app.id), ...fieldArgs(rest))) !== 1) {
        throw new StoreError('not_found', `app ${app.id} does not exist`);
      }
    },
    async delete(id) {
      return (await remove(keys.app(id), id, keys.appsAll())) === 1;
    },
  };
}
