/**
 * Reads remembered for the length of one HTTP request. A login's provider requests ask for the
 * same records several times (oidc-provider loads the interaction, then the session it names, then
 * the interaction again to finish it; the account, the app and the group membership are checked
 * at the passkey step and again when the grant is made). Within one request the answer cannot
 * usefully differ, so each read goes to the store once.
 * - The memo lives in an AsyncLocalStorage scope opened by `requestScope()` (app.ts, first
 *   middleware) and closed when the response is done: work a request leaves behind (a timer, a
 *   worker kicked from it) reads from the store again.
 * - Every write through the store drops what it may have changed (store-caches.ts), so a read
 *   after a write in the same request sees the write.
 * - Values are cloned on the way out: a caller that changes what it read (oidc-provider builds
 *   models from payloads and edits them) cannot change the memo.
 * Nothing here outlives a request: no cross-instance invalidation is needed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Middleware } from 'koa';
import { copyRecord } from './copy-record.ts';

class RequestMemo {
  private readonly entries = new Map<string, Promise<unknown>>();
  open = true;

  read<T>(key: string, load: () => Promise<T>): Promise<T> {
    let entry = this.entries.get(key) as Promise<T> | undefined;
    if (!entry) {
      entry = load();
      this.entries.set(key, entry);
      // A failed read is not remembered: the next caller tries the store again.
      entry.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      });
    }
    return entry.then(copyRecord);
  }

  /** Remembers what a read that answers several at once found for another key (unless already known). */
  seed(key: string, value: unknown): void {
    if (!this.entries.has(key)) this.entries.set(key, Promise.resolve(value));
  }

  /** Drops every entry whose key starts with one of the prefixes. */
  forget(prefixes: readonly string[]): void {
    for (const key of this.entries.keys()) if (prefixes.some((prefix) => key.startsWith(prefix))) this.entries.delete(key);
  }
}

const scope = new AsyncLocalStorage<RequestMemo>();

/** The open memo of the request this code runs for, if any. */
export function currentMemo(): RequestMemo | null {
  const memo = scope.getStore();
  return memo?.open ? memo : null;
}

/** Koa middleware: everything downstream of it reads through one memo per request. */
export function requestScope(): Middleware {
  return async (ctx, next) => {
    const memo = new RequestMemo();
    try {
      await scope.run(memo, next);
    } finally {
      memo.open = false;
    }
  };
}

/** Runs `fn` with a memo of its own (tests, and work shaped like a request outside Koa). */
export function withRequestMemo<T>(fn: () => Promise<T>): Promise<T> {
  const memo = new RequestMemo();
  return scope.run(memo, fn).finally(() => {
    memo.open = false;
  });
}

export type { RequestMemo };
