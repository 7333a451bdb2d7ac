/**
 * A deep copy of a stored record or payload for the caches in this folder, which hand each caller
 * its own copy. What they hold is JSON data (parsed from the store: objects, arrays, strings,
 * numbers, booleans, null), so a plain recursive copy is exact, and about six times cheaper than
 * structuredClone on a login's small payloads (a login copies a few dozen). Nesting is bounded by
 * what was stored (bodies deeper than MAX_JSON_DEPTH are refused before they reach the store).
 */
export function copyRecord<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyRecord) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = copyRecord((value as Record<string, unknown>)[key]);
  return copy as T;
}
