/**
 * The signing-key lifecycle, decided from stored times only: which key signs, which are published,
 * and when the decision changes on its own. No HTTP, no store.
 */
import { describe, expect, it } from 'vitest';
import { nextKeySet, type KeyTimes } from '../../server/domain/next-key-set.ts';

const T0 = Date.UTC(2026, 11, 1, 12);
const MIN = 60_000;
const RETAIN = 70 * MIN;

const key = (kid: string, activatesAt: number, extra: Partial<KeyTimes> = {}): KeyTimes => ({ kid, createdAt: activatesAt, activatesAt, revokedAt: null, ...extra });
const statuses = (keys: KeyTimes[], now: number) => Object.fromEntries(nextKeySet(keys, now, RETAIN).states.map((state) => [state.key.kid, state.status]));
const kids = (list: KeyTimes[]) => list.map((item) => item.kid);

describe('nextKeySet', () => {
  it('a single key signs and is the only one published', () => {
    const decision = nextKeySet([key('a', T0)], T0, RETAIN);
    expect(decision.signing?.kid).toBe('a');
    expect(kids(decision.published)).toEqual(['a']);
    expect(decision.nextChangeAt).toBeNull();
  });

  it('a rotated key is published as next but does not sign before its activation time', () => {
    const keys = [key('a', T0), key('b', T0 + 60 * MIN, { createdAt: T0 + 10 * MIN })];
    const before = nextKeySet(keys, T0 + 60 * MIN - 1, RETAIN);
    expect(before.signing?.kid).toBe('a');
    expect(kids(before.published)).toEqual(['a', 'b']);
    expect(statuses(keys, T0 + 60 * MIN - 1)).toEqual({ a: 'current', b: 'next' });
    expect(before.nextChangeAt).toBe(T0 + 60 * MIN);
    expect(before.states.find((state) => state.key.kid === 'a')?.signsUntil).toBe(T0 + 60 * MIN);
  });

  it('at activation the next key signs and the old one stays published until its tokens expired', () => {
    const keys = [key('a', T0), key('b', T0 + 60 * MIN)];
    const at = nextKeySet(keys, T0 + 60 * MIN, RETAIN);
    expect(at.signing?.kid).toBe('b');
    expect(kids(at.published)).toEqual(['b', 'a']);
    expect(statuses(keys, T0 + 60 * MIN)).toEqual({ a: 'previous', b: 'current' });
    expect(at.states.find((state) => state.key.kid === 'a')?.publishedUntil).toBe(T0 + 60 * MIN + RETAIN);
    expect(at.nextChangeAt).toBe(T0 + 60 * MIN + RETAIN);

    const later = nextKeySet(keys, T0 + 60 * MIN + RETAIN, RETAIN);
    expect(kids(later.published)).toEqual(['b']);
    expect(statuses(keys, T0 + 60 * MIN + RETAIN)).toEqual({ a: 'retired', b: 'current' });
    expect(later.nextChangeAt).toBeNull();
  });

  it('a revoked key is unpublished at once and never signs, whatever the clock says', () => {
    const keys = [key('a', T0, { revokedAt: T0 + 5 * MIN }), key('b', T0 + 5 * MIN)];
    // An instance whose clock lags behind the revocation still stops using the key.
    const lagging = nextKeySet(keys, T0 + 4 * MIN, RETAIN);
    expect(kids(lagging.published)).not.toContain('a');
    expect(lagging.signing?.kid).toBe('b');
    expect(statuses(keys, T0 + 6 * MIN)).toEqual({ a: 'revoked', b: 'current' });
  });

  it('revoking a next key keeps the current one signing past the planned activation', () => {
    const keys = [key('a', T0), key('b', T0 + 60 * MIN, { revokedAt: T0 + 30 * MIN })];
    const decision = nextKeySet(keys, T0 + 2 * 60 * MIN, RETAIN);
    expect(decision.signing?.kid).toBe('a');
    expect(kids(decision.published)).toEqual(['a']);
    expect(decision.states.find((state) => state.key.kid === 'a')?.signsUntil).toBeNull();
  });

  it('a key that stopped signing because of a later-revoked successor is retained from that successor activation', () => {
    const keys = [key('a', T0), key('b', T0 + 60 * MIN, { revokedAt: T0 + 90 * MIN }), key('c', T0 + 90 * MIN)];
    const decision = nextKeySet(keys, T0 + 91 * MIN, RETAIN);
    expect(decision.signing?.kid).toBe('c');
    expect(statuses(keys, T0 + 91 * MIN)).toEqual({ a: 'previous', b: 'revoked', c: 'current' });
    expect(decision.states.find((state) => state.key.kid === 'a')?.publishedUntil).toBe(T0 + 60 * MIN + RETAIN);
  });

  it('orders the published set: signing, then next, then previous newest first', () => {
    const keys = [key('a', T0), key('b', T0 + 10 * MIN), key('c', T0 + 20 * MIN), key('d', T0 + 90 * MIN)];
    const decision = nextKeySet(keys, T0 + 30 * MIN, RETAIN);
    expect(kids(decision.published)).toEqual(['c', 'd', 'b', 'a']);
    expect(decision.nextChangeAt).toBe(T0 + 10 * MIN + RETAIN);
  });

  it('when no key has activated yet (clock set back), the earliest next key signs rather than none', () => {
    const keys = [key('b', T0 + 60 * MIN), key('a', T0 + 30 * MIN)];
    const decision = nextKeySet(keys, T0, RETAIN);
    expect(decision.signing?.kid).toBe('a');
    expect(kids(decision.published)).toEqual(['a', 'b']);
  });

  it('every instance reaching the same records at the same time decides the same, whatever order the store lists them in', () => {
    const keys = [key('a', T0), key('b', T0 + 60 * MIN), key('c', T0 + 60 * MIN, { createdAt: T0 + 61 * MIN })];
    const one = nextKeySet(keys, T0 + 60 * MIN, RETAIN);
    const other = nextKeySet([...keys].reverse(), T0 + 60 * MIN, RETAIN);
    expect(kids(one.published)).toEqual(kids(other.published));
    expect(one.signing?.kid).toBe('c');
  });

  it('an empty store has no signing key', () => {
    expect(nextKeySet([], T0, RETAIN)).toEqual({ signing: null, published: [], states: [], nextChangeAt: null });
  });
});
