/** Clocks for tests: expiry, leases and backoffs are moved past by the test, never slept through. */
import type { Clock } from '../../server/ports/clock.ts';

/** Real time plus an offset the test moves forward, so backoffs and rate-limit waits need no sleeping. */
export function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}
