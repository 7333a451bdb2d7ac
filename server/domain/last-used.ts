/**
 * "Last used" times (SCIM tokens, passkeys) are hints shown to admins and people to the minute,
 * not an access log: a use rewrites one only when the stored time is older than a minute, so a
 * busy token or passkey costs one write a minute, not one per request.
 */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** True when a use at `now` should write lastUsedAt again. */
export function lastUsedIsStale(lastUsedAt: number | null, now: number): boolean {
  return lastUsedAt === null || now - lastUsedAt >= LAST_USED_RESOLUTION_MS;
}
