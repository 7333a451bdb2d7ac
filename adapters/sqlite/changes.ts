/**
 * Change notifications on SQLite. The CLI and the server are separate processes sharing the file,
 * so nothing can be pushed: each process notices instead.
 * - publish: bumps change_versions.{topic} and tells this process's listeners at once.
 * - Twice a second (while anyone listens) PRAGMA data_version says whether another connection
 *   committed anything since the last look (it reads a counter, no table); only then are the
 *   versions of subscribed topics read and compared. Well within CHANGE_DELIVERY_MS.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { ChangeNotifications } from '../../server/ports/storage.ts';

const POLL_MS = 500;

export function createChangeNotifications(db: BetterSqlite3.Database): ChangeNotifications & { close(): void } {
  const bump = db.prepare('INSERT INTO change_versions (topic, version) VALUES (?, 1) ON CONFLICT (topic) DO UPDATE SET version = version + 1');
  const versionOf = db.prepare<[string], number>('SELECT version FROM change_versions WHERE topic = ?').pluck();
  const listeners = new Map<string, Set<() => void>>();
  const seen = new Map<string, number>();
  let dataVersion = -1;
  let timer: NodeJS.Timeout | null = null;

  const notify = (topic: string) => {
    for (const listener of listeners.get(topic) ?? []) {
      try {
        listener();
      } catch {
        // A listener reports its own failures; one must not stop the others.
      }
    }
  };

  function poll(): void {
    if (!db.open) return;
    const current = db.pragma('data_version', { simple: true }) as number;
    if (current === dataVersion) return;
    dataVersion = current;
    for (const topic of listeners.keys()) {
      const version = versionOf.get(topic) ?? 0;
      if (seen.get(topic) !== version) {
        seen.set(topic, version);
        notify(topic);
      }
    }
  }

  return {
    async publish(topic) {
      bump.run(topic);
      seen.set(topic, versionOf.get(topic) ?? 0);
      notify(topic);
    },
    subscribe(topic, listener) {
      if (!listeners.has(topic)) {
        listeners.set(topic, new Set());
        seen.set(topic, versionOf.get(topic) ?? 0);
      }
      listeners.get(topic)!.add(listener);
      if (!timer) {
        dataVersion = db.pragma('data_version', { simple: true }) as number;
        timer = setInterval(() => {
          try {
            poll();
          } catch {
            // A busy or closing database: the next tick looks again.
          }
        }, POLL_MS);
        timer.unref();
      }
      return () => {
        listeners.get(topic)?.delete(listener);
      };
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
