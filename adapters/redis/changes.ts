/**
 * Change notifications on Redis, for every instance sharing the prefix.
 * - publish: INCR changes:{topic} (a version) and PUBLISH {prefix}changes {topic}, in one MULTI.
 * - The publishing process's own listeners are called at once (and again when its message comes
 *   back: listeners only re-read, so twice is harmless).
 * - A separate subscriber connection (a subscribed connection can run no other command) hears the
 *   channel and calls the topic's listeners within milliseconds.
 * - Pub/sub forgets messages sent while a subscriber is disconnected, so every CHANGE_DELIVERY_MS
 *   the versions of subscribed topics are compared with the last seen (one MGET), and a
 *   (re)connected subscriber calls every listener once: nothing is missed for longer than that.
 */
import type { Redis } from 'ioredis';
import { CHANGE_DELIVERY_MS, type ChangeNotifications } from '../../server/ports/storage.ts';
import type { Keys } from './keys.ts';

export function createChangeNotifications(redis: Redis, keys: Keys): ChangeNotifications & { close(): void } {
  const channel = keys.key('changes');
  const versionKey = (topic: string) => keys.key('changes', topic);
  const listeners = new Map<string, Set<() => void>>();
  const seen = new Map<string, string | null>();
  let subscriber: Redis | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const notify = (topic: string) => {
    for (const listener of listeners.get(topic) ?? []) {
      try {
        listener();
      } catch {
        // A listener reports its own failures; one must not stop the others.
      }
    }
  };

  /**
   * `unknownChanged`: a topic whose version was never read counts as changed. Used when the
   * subscription becomes active, where a publish may have passed unheard since subscribe().
   */
  async function checkVersions(unknownChanged = false): Promise<void> {
    const topics = [...listeners.keys()];
    if (topics.length === 0 || closed) return;
    const versions = await redis.mget(...topics.map(versionKey));
    topics.forEach((topic, index) => {
      const version = versions[index];
      if (seen.has(topic) ? seen.get(topic) !== version : unknownChanged) notify(topic);
      seen.set(topic, version);
    });
  }

  function start(): void {
    if (subscriber || closed) return;
    subscriber = redis.duplicate();
    let connectedBefore = false;
    subscriber.on('ready', () => {
      // After a reconnect, messages sent meanwhile are lost: everyone re-reads once.
      if (connectedBefore) for (const topic of listeners.keys()) notify(topic);
      connectedBefore = true;
    });
    subscriber.on('error', () => {
      // ioredis reconnects by itself; the version check covers the gap.
    });
    subscriber.on('message', (_channel: string, topic: string) => {
      seen.delete(topic);
      notify(topic);
      // Remember the version this message stands for, so the periodic check does not repeat it.
      void redis.get(versionKey(topic)).then((version) => seen.set(topic, version), () => undefined);
    });
    // Until the subscription is active, messages pass unheard: once it is, the versions read at
    // subscribe() say whether anything was published meanwhile. Notifying every listener here
    // instead would empty caches filled a moment ago for nothing.
    subscriber.subscribe(channel).then(() => checkVersions(true), () => undefined).catch(() => {
      for (const topic of listeners.keys()) notify(topic);
    });
    timer = setInterval(() => void checkVersions().catch(() => undefined), CHANGE_DELIVERY_MS);
    timer.unref();
  }

  return {
    async publish(topic) {
      await redis.multi().incr(versionKey(topic)).publish(channel, topic).exec();
      // This process's listeners hear it at once, not after a round trip through the channel.
      notify(topic);
    },
    subscribe(topic, listener) {
      if (!listeners.has(topic)) {
        listeners.set(topic, new Set());
        void redis.get(versionKey(topic)).then((version) => {
          if (!seen.has(topic)) seen.set(topic, version);
        }, () => undefined);
      }
      listeners.get(topic)!.add(listener);
      start();
      return () => {
        listeners.get(topic)?.delete(listener);
      };
    },
    close() {
      closed = true;
      if (timer) clearInterval(timer);
      subscriber?.disconnect();
      subscriber = null;
    },
  };
}
