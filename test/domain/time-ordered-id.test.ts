import { describe, expect, it } from 'vitest';
import { timeOrderedId } from '../../server/domain/time-ordered-id.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedId (UUID version 7, RFC 9562 §5.7)', () => {
  it('is a version 7, variant 10 UUID whose first 48 bits are the time in milliseconds', () => {
    const now = Date.UTC(2026, 11, 2, 6, 0, 0, 123);
    const id = timeOrderedId(now);
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('sorts by time as text (what an index on it sees), and ids of the same millisecond differ', () => {
    const now = Date.now();
    const ids = [timeOrderedId(now + 1000), timeOrderedId(now), timeOrderedId(now + 1)];
    expect([...ids].sort()).toEqual([ids[1], ids[2], ids[0]]);
    const sameMillisecond = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(now)));
    expect(sameMillisecond.size).toBe(10_000);
  });
});
