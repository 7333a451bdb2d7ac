/**
 * A thin instrumenting wrapper around the Store: a Proxy over each repository times every call
 * and counts what threw, so no adapter carries metrics code. Appended audit events also feed the
 * sign-in counter (countLogin), once the append has succeeded.
 * Streams (exportAll/importAll) and close() pass through untouched.
 */
import { StoreError, type AuditEvent, type Store } from '../ports/storage.ts';
import { countLogin, type Metrics } from './metrics.ts';

const REPOSITORIES = ['identities', 'groups', 'passkeys', 'apps', 'invites', 'signingKeys', 'settings', 'authenticatorMetadata', 'oidc', 'oneTime', 'scimTokens', 'audit', 'jobs'] as const;
const TIMED_STORE_METHODS = new Set(['ping', 'sweepExpired']);

type AnyFunction = (...args: unknown[]) => unknown;

function timed(metrics: Metrics, repository: string, method: string, fn: AnyFunction, self: unknown, after?: (args: unknown[]) => void): AnyFunction {
  const labels = { repository, method };
  // The labelled child once per wrapped method: prom-client otherwise hashes the labels on every call.
  const duration = metrics.storeDuration.labels(labels);
  const failed = (error: unknown) => {
    metrics.storeErrors.inc({ ...labels, kind: error instanceof StoreError ? error.code : 'failure' });
  };
  return (...args) => {
    const end = duration.startTimer();
    let result: unknown;
    try {
      result = fn.apply(self, args);
    } catch (error) {
      end();
      failed(error);
      throw error;
    }
    if (!(result instanceof Promise)) {
      end();
      return result;
    }
    return result.then(
      (value) => {
        end();
        after?.(args);
        return value;
      },
      (error: unknown) => {
        end();
        failed(error);
        throw error;
      },
    );
  };
}

function wrapRepository<T extends object>(metrics: Metrics, name: string, repository: T): T {
  const cache = new Map<PropertyKey, AnyFunction>();
  return new Proxy(repository, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      let wrapped = cache.get(property);
      if (!wrapped) {
        const after = name === 'audit' && property === 'append' ? (args: unknown[]) => countLogin(metrics, args[0] as AuditEvent) : undefined;
        wrapped = timed(metrics, name, property, value as AnyFunction, target, after);
        cache.set(property, wrapped);
      }
      return wrapped;
    },
  });
}

export function instrumentStore(store: Store, metrics: Metrics): Store {
  const repositories = new Map<PropertyKey, unknown>(REPOSITORIES.map((name) => [name, wrapRepository(metrics, name, store[name])]));
  const methods = new Map<PropertyKey, AnyFunction>();
  return new Proxy(store, {
    get(target, property, receiver) {
      if (repositories.has(property)) return repositories.get(property);
      const value = Reflect.get(target, property, receiver);
      if (typeof property === 'string' && TIMED_STORE_METHODS.has(property) && typeof value === 'function') {
        let wrapped = methods.get(property);
        if (!wrapped) methods.set(property, (wrapped = timed(metrics, 'store', property, value as AnyFunction, target)));
        return wrapped;
      }
      return typeof value === 'function' ? (value as AnyFunction).bind(target) : value;
    },
  });
}
