/**
 * The store as the services see it: the instrumented store (metrics/instrument-store.ts) with
 * - apps cached between requests and invalidated across instances (app-cache.ts);
 * - the reads a login repeats remembered for one request (request-memo.ts): identities by id and
 *   user name, passkeys by id and owner, group ids of a person, oidc-provider models by id and uid
 *   (a code or token read with its session, grant and account answers those lookups as well).
 * Every other call passes straight through. Durability is untouched: each write still goes to the
 * store at once; a write only also drops what it may have changed from the request's memo
 * (a person's write also their memberships and passkeys, which an identity delete removes).
 * Identities (whose `active` flag ends sign-ins at once) are never kept beyond one request.
 */
import type { ModelWithBindings, Store } from '../ports/storage.ts';
import { cacheApps, APPS_TOPIC } from './app-cache.ts';
import { currentMemo } from './request-memo.ts';

type AnyFunction = (...args: unknown[]) => Promise<unknown>;

/** Which reads of a repository are remembered, and how each call's key is made (`now` arguments left out). */
const MEMOISED: Record<string, Record<string, (args: unknown[]) => string>> = {
  identities: { get: ([id]) => String(id), getByUserName: ([userName]) => String(userName) },
  passkeys: { get: ([id]) => String(id), listByIdentity: ([identityId]) => String(identityId) },
  groups: { groupIdsOf: ([identityId]) => String(identityId) },
  oidc: { find: ([model, id]) => `${model}:${id}`, findByUid: ([model, uid]) => `${model}:${uid}`, findWithBindings: ([model, id]) => `${model}:${id}` },
};

/**
 * Reads whose answer also answers other memoised reads, as [memo key, value] pairs: a code or
 * token found with its Session, Grant and account (what oidc-provider looks up next) fills those in too.
 */
const ALSO_ANSWERS: Record<string, Record<string, (args: unknown[], result: unknown) => [string, unknown][]>> = {
  oidc: {
    findWithBindings: ([model, id], result) => {
      if (!result) return [];
      const { payload, session, grant, account } = result as ModelWithBindings;
      const answers: [string, unknown][] = [[`oidc.find:${model}:${id}`, payload]];
      if (typeof payload.sessionUid === 'string') answers.push([`oidc.findByUid:Session:${payload.sessionUid}`, session]);
      if (typeof payload.grantId === 'string') answers.push([`oidc.find:Grant:${payload.grantId}`, grant]);
      if (typeof payload.accountId === 'string') answers.push([`identities.get:${payload.accountId}`, account]);
      return answers;
    },
  },
};

/** A write to a repository may change what these repositories' memoised reads return. */
const WRITE_AFFECTS: Record<string, string[]> = {
  identities: ['identities', 'passkeys', 'groups'],
  passkeys: ['passkeys'],
  groups: ['groups'],
  oidc: ['oidc'],
};

function memoiseRepository<T extends object>(name: string, repository: T): T {
  const reads = MEMOISED[name];
  const affected = WRITE_AFFECTS[name].map((repository) => `${repository}.`);
  const wrapped = new Map<PropertyKey, AnyFunction>();
  return new Proxy(repository, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      let fn = wrapped.get(property);
      if (!fn) {
        const call = (value as AnyFunction).bind(target);
        const keyOf = reads[property];
        const alsoAnswers = ALSO_ANSWERS[name]?.[property];
        fn = keyOf
          ? (...args) => {
              const memo = currentMemo();
              if (!memo) return call(...args);
              const load = alsoAnswers
                ? () => call(...args).then((result) => {
                    for (const [key, value] of alsoAnswers(args, result)) memo.seed(key, value);
                    return result;
                  })
                : () => call(...args);
              return memo.read(`${name}.${property}:${keyOf(args)}`, load);
            }
          : async (...args) => {
              try {
                return await call(...args);
              } finally {
                currentMemo()?.forget(affected);
              }
            };
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}

export function withStoreCaches(store: Store, options: { apps?: boolean } = {}): Store {
  const apps = options.apps === false ? store.apps : cacheApps(store.apps, store.changes);
  const repositories = new Map<PropertyKey, unknown>([
    ['apps', apps],
    ...Object.keys(MEMOISED).map((name): [string, unknown] => [name, memoiseRepository(name, store[name as keyof Store] as object)]),
  ]);
  return new Proxy(store, {
    get(target, property, receiver) {
      if (repositories.has(property)) return repositories.get(property);
      if (property === 'importAll') {
        // A restore rewrites apps behind the repository: every process re-reads them.
        return async (...args: Parameters<Store['importAll']>) => {
          try {
            return await target.importAll(...args);
          } finally {
            currentMemo()?.forget(Object.keys(MEMOISED).map((name) => `${name}.`));
            await target.changes.publish(APPS_TOPIC);
          }
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as AnyFunction).bind(target) : value;
    },
  });
}
