/**
 * Apps (OIDC clients) kept in process between requests: every provider request looks its client
 * up, and a login makes six such requests. An app changes rarely and only through AppRepository
 * writes (create, update, delete) or a restore (importAll), so:
 * - a write through this process drops the entry at once and publishes APPS_TOPIC on the store's
 *   change notifications (ports/storage.ts ChangeNotifications);
 * - every process sharing the store (other instances, the server beside a CLI command) drops its
 *   whole cache when it hears APPS_TOPIC: on Redis within milliseconds (pub/sub), on SQLite within
 *   the change poll (adapters/sqlite/changes.ts), either way within CHANGE_DELIVERY_MS even if a
 *   notification was lost, and a changed secret or redirect URI counts from the next request;
 * - an entry is also dropped after MAX_AGE_MS, so even a change written around the port (a manual
 *   edit of the database) shows within a minute;
 * - a read that was in flight when an invalidation arrived is not put back.
 * Callers get a copy: nothing they do to a record changes the cache.
 */
import type { AppRecord, AppRepository, ChangeNotifications } from '../ports/storage.ts';
import { copyRecord } from './copy-record.ts';

export const APPS_TOPIC = 'apps';
const MAX_AGE_MS = 60_000;

export function cacheApps(apps: AppRepository, changes: ChangeNotifications, now: () => number = Date.now): AppRepository & { invalidate(): void } {
  const entries = new Map<string, { record: Promise<AppRecord | null>; at: number }>();
  let subscribed = false;

  function invalidate(): void {
    entries.clear();
  }

  /** Subscribed on first use, so a process that never reads an app never listens. */
  function listen(): void {
    if (subscribed) return;
    subscribed = true;
    changes.subscribe(APPS_TOPIC, invalidate);
  }

  async function written<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      invalidate();
      await changes.publish(APPS_TOPIC);
    }
  }

  return {
    async get(id) {
      listen();
      let entry = entries.get(id);
      if (!entry || now() - entry.at > MAX_AGE_MS) {
        const record = apps.get(id);
        entry = { record, at: now() };
        entries.set(id, entry);
        const placed = entry;
        record.catch(() => {
          if (entries.get(id) === placed) entries.delete(id);
        });
      }
      const record = await entry.record;
      return record && copyRecord(record);
    },
    list: () => apps.list(),
    create: (app) => written(apps.create(app)),
    update: (app) => written(apps.update(app)),
    delete: (id) => written(apps.delete(id)),
    invalidate,
  };
}
