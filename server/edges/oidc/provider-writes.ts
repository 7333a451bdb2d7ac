/**
 * oidc-provider's model writes of one request, committed together just before its response.
 * Resuming an authorization saves the interaction's end, a grant, a code and the session holding
 * them one after another; held here they commit in one store write (ports/storage.ts write(): one
 * transaction on SQLite, one script on Redis), all or none, still before the browser is sent to
 * the app with the code. Rules:
 * - only inside `withProviderWrites` (the provider's own requests, oidc-edge.ts); anywhere else an
 *   upsert or destroy goes to the store at once;
 * - a later change of the same model replaces an earlier one, as it would in the store;
 * - anything else (a read, consume, a revocation) commits what is queued first, so nothing in the
 *   request reads past a write it made, and consume() keeps its race semantics;
 * - the response waits for the commit; if the commit fails, the request fails with it (the error
 *   boundary answers 503 for an unavailable store) and no code or cookie leaves. Writes queued before
 *   the provider itself threw are still committed, as they were when each went out at once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { OidcModelChange, OidcModelRepository } from '../../ports/storage.ts';

type Queue = Map<string, OidcModelChange>;
const scope = new AsyncLocalStorage<Queue>();

async function commit(models: OidcModelRepository, queue: Queue | undefined): Promise<void> {
  if (!queue || queue.size === 0) return;
  const changes = [...queue.values()];
  queue.clear();
  await models.write(changes);
}

/** Runs one provider request with its model writes held, then commits them. */
export async function withProviderWrites<T>(models: OidcModelRepository, run: () => Promise<T>): Promise<T> {
  const queue: Queue = new Map();
  let result: T;
  try {
    result = await scope.run(queue, run);
  } catch (error) {
    await commit(models, queue).catch(() => undefined);
    throw error;
  }
  await commit(models, queue);
  return result;
}

/** The model repository as the provider's adapter uses it: upserts and destroys held while a request's writes are. */
export function heldWrites(models: OidcModelRepository): OidcModelRepository {
  /** Queues the change when a request holds writes; false when it must go out now. */
  const held = (change: OidcModelChange): boolean => {
    const queue = scope.getStore();
    if (!queue) return false;
    const key = `${change.model}\u0000${change.id}`;
    // Re-inserted so the order of the write is the order of the last change of each model.
    queue.delete(key);
    queue.set(key, change);
    return true;
  };
  /** Reads, consume and revocations: whatever the request queued is committed before they run. */
  const afterCommit =
    <A extends unknown[], R>(operation: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await commit(models, scope.getStore());
      return operation(...args);
    };
  return {
    async upsert(model, id, payload, expiresAt, indexes) {
      if (!held({ op: 'upsert', model, id, payload, expiresAt, indexes })) await models.upsert(model, id, payload, expiresAt, indexes);
    },
    async destroy(model, id) {
      if (!held({ op: 'destroy', model, id })) await models.destroy(model, id);
    },
    write: afterCommit((changes) => models.write(changes)),
    find: afterCommit((model, id, now) => models.find(model, id, now)),
    findByUid: afterCommit((model, uid, now) => models.findByUid(model, uid, now)),
    findByUserCode: afterCommit((model, userCode, now) => models.findByUserCode(model, userCode, now)),
    findWithBindings: afterCommit((model, id, now) => models.findWithBindings(model, id, now)),
    consume: afterCommit((model, id, at) => models.consume(model, id, at)),
    revokeByGrantId: afterCommit((grantId) => models.revokeByGrantId(grantId)),
    revokeByAccountId: afterCommit((accountId) => models.revokeByAccountId(accountId)),
    revokeByPasskeyId: afterCommit((passkeyId) => models.revokeByPasskeyId(passkeyId)),
  };
}
