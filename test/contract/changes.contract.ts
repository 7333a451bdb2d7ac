/**
 * Storage contract: change notifications between processes sharing one store. `openPair` opens two
 * stores on the same backend (two connections, as two instances or the server and the CLI have).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CHANGE_DELIVERY_MS, type Store } from '../../server/ports/storage.ts';

/** Resolves with how long it took until `count()` reached `atLeast`, or rejects after `withinMs`. */
async function waitFor(count: () => number, atLeast: number, withinMs: number): Promise<number> {
  const start = Date.now();
  while (count() < atLeast) {
    if (Date.now() - start > withinMs) throw new Error(`listener called ${count()} times, expected ${atLeast} within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - start;
}

export function describeChangeNotificationsContract(name: string, openPair: () => Promise<[Store, Store]>): void {
  describe(`change notifications: ${name}`, () => {
    let stores: Store[] = [];
    afterEach(async () => {
      for (const store of stores) await store.close();
      stores = [];
    });
    const pair = async () => {
      const opened = await openPair();
      stores.push(...opened);
      return opened;
    };

    it('tells listeners in this process at once and in another process within CHANGE_DELIVERY_MS', async () => {
      const [one, two] = await pair();
      let here = 0;
      let there = 0;
      one.changes.subscribe('topic-a', () => here++);
      two.changes.subscribe('topic-a', () => there++);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [here0, there0] = [here, there];
      await one.changes.publish('topic-a');
      await waitFor(() => here, here0 + 1, 50);
      await waitFor(() => there, there0 + 1, CHANGE_DELIVERY_MS + 500);
      const [here1, there1] = [here, there];
      await two.changes.publish('topic-a');
      await waitFor(() => here, here1 + 1, CHANGE_DELIVERY_MS + 500);
      await waitFor(() => there, there1 + 1, 50);
    });

    it('keeps topics apart and stops a listener that unsubscribed', async () => {
      const [one, two] = await pair();
      let a = 0;
      let b = 0;
      const stopA = two.changes.subscribe('topic-a', () => a++);
      two.changes.subscribe('topic-b', () => b++);
      // A store may call listeners once when its subscription becomes active (re-read, harmless).
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [a0, b0] = [a, b];
      await one.changes.publish('topic-b');
      await waitFor(() => b, b0 + 1, CHANGE_DELIVERY_MS + 500);
      expect(a).toBe(a0);
      stopA();
      await one.changes.publish('topic-a');
      await one.changes.publish('topic-b');
      await waitFor(() => b, b0 + 2, CHANGE_DELIVERY_MS + 500);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(a).toBe(a0);
    });

    it('a listener that throws does not stop the others', async () => {
      const [one] = await pair();
      let called = 0;
      one.changes.subscribe('topic-a', () => {
        throw new Error('listener failure');
      });
      one.changes.subscribe('topic-a', () => called++);
      await one.changes.publish('topic-a');
      await waitFor(() => called, 1, CHANGE_DELIVERY_MS + 500);
    });
  });
}
