/**
 * When a use rewrites "last used": a passkey whose signature counter moved always (the stored
 * counter must follow it), otherwise, as a SCIM token, only when the stored time is a minute old.
 */
import { describe, expect, it } from 'vitest';
import { LAST_USED_RESOLUTION_MS, lastUsedIsStale } from '../../server/domain/last-used.ts';
import { passkeyUseWorthWriting } from '../../server/domain/sign-ins.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');

describe('last-used writes', () => {
  it('a time never written, or a minute old, is stale; a younger one is not', () => {
    expect(lastUsedIsStale(null, NOW)).toBe(true);
    expect(lastUsedIsStale(NOW - LAST_USED_RESOLUTION_MS, NOW)).toBe(true);
    expect(lastUsedIsStale(NOW - LAST_USED_RESOLUTION_MS + 1, NOW)).toBe(false);
    expect(lastUsedIsStale(NOW, NOW)).toBe(false);
  });

  it('a passkey use is written when its counter moved, even a second after the last one', () => {
    expect(passkeyUseWorthWriting({ counter: 7, lastUsedAt: NOW - 1_000 }, 8, NOW)).toBe(true);
  });

  it('a use that moves no counter (synced passkeys report 0) is written at most once a minute', () => {
    expect(passkeyUseWorthWriting({ counter: 0, lastUsedAt: NOW - 1_000 }, 0, NOW)).toBe(false);
    expect(passkeyUseWorthWriting({ counter: 0, lastUsedAt: NOW - LAST_USED_RESOLUTION_MS }, 0, NOW)).toBe(true);
    expect(passkeyUseWorthWriting({ counter: 0, lastUsedAt: null }, 0, NOW)).toBe(true);
  });
});
