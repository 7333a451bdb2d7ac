/**
 * Keeps this instance's view of the signing keys current without an admin or a restart:
 * - reloads when any process announces a key change (store change notifications: milliseconds on
 *   Redis, about a second on SQLite where the CLI writes the shared file);
 * - reloads at the moment the set changes on its own (a next key activating, an old one retiring),
 *   computed from stored times, so every instance switches at the same moment;
 * - and once a minute regardless, in case a timer or a notification went missing.
 * `apply` runs only when the published set or the signing key actually changed.
 */
import type { Services } from '../../bootstrap.ts';
import { SIGNING_KEYS_TOPIC, type KeySet } from '../../domain/signing-keys.ts';
import type { Logger } from '../../logger.ts';

const SAFETY_RELOAD_MS = 60_000;
/** setTimeout holds at most ~24.8 days; a later change is reached by the safety reload anyway. */
const LONGEST_TIMER_MS = 6 * 60 * 60 * 1000;

export async function watchSigningKeys(deps: { services: Services; logger: Logger; apply: (keys: KeySet) => void }) {
  const { services, logger, apply } = deps;
  const { store, clock, signingKeys } = services;
  let current: KeySet | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;

  function schedule(at: number | null): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (at === null || closed) return;
    // A few ms late rather than early: the stored time must have passed when we recompute.
    const delay = Math.min(Math.max(at - clock.now() + 5, 0), LONGEST_TIMER_MS);
    timer = setTimeout(() => void reload(), delay);
    timer.unref();
  }

  async function load(): Promise<void> {
    const next = await signingKeys.load();
    if (next.fingerprint !== current?.fingerprint || next.signingKid !== current?.signingKid) {
      current = next;
      apply(next);
    } else {
      current = next;
    }
    schedule(next.nextChangeAt);
  }

  /** Coalesces: a change heard while loading loads once more afterwards. */
  function reload(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await load();
        } catch (error) {
          logger.warn({ err: error }, 'signing key reload failed');
        }
      } while (again && !closed);
      running = null;
    })();
    return running;
  }

  // Listen first, then load: a change between the two is then heard, not lost.
  const unsubscribe = store.changes.subscribe(SIGNING_KEYS_TOPIC, () => void reload());
  await signingKeys.ensure();
  await load();
  const safety = setInterval(() => void reload(), SAFETY_RELOAD_MS);
  safety.unref();

  return {
    reload,
    close() {
      closed = true;
      unsubscribe();
      clearInterval(safety);
      if (timer) clearTimeout(timer);
    },
  };
}
