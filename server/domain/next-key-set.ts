/**
 * The signing-key lifecycle as a pure function of stored times, so every instance that reads the
 * same records at the same moment decides the same way, without talking to the others:
 *
 *   next ──(activatesAt)──> current ──(successor activates)──> previous ──(+ retainAfterMs)──> retired
 *     └──────────────────────────── keys revoke ────────────────────────────> revoked
 *
 * - next: published in the JWKS, not signing yet. A relying party that fetches the JWKS during
 *   the lead time already knows the key when the first token signed with it arrives.
 * - current: the one key that signs (the latest activated one that is not revoked).
 * - previous: no longer signs, still published until every token it signed has expired.
 * - retired: unpublished, may be deleted. revoked: unpublished at once, its tokens refused.
 */

export type KeyStatus = 'next' | 'current' | 'previous' | 'retired' | 'revoked';

/** What the lifecycle needs of a stored key (SigningKeyRecord satisfies it). */
export interface KeyTimes {
  kid: string;
  createdAt: number;
  /** From then on the key signs (unless a later one has activated). */
  activatesAt: number;
  revokedAt: number | null;
}

export interface KeyState<K extends KeyTimes = KeyTimes> {
  key: K;
  status: KeyStatus;
  /** When it stopped (or will stop) signing: its successor's activation; null while it has none. */
  signsUntil: number | null;
  /** When it leaves the JWKS: null while current or next (no end yet), revokedAt for revoked keys. */
  publishedUntil: number | null;
}

export interface KeySetDecision<K extends KeyTimes = KeyTimes> {
  /** The key that signs now; null only when the store holds no usable key at all. */
  signing: K | null;
  /** What the JWKS publishes: the signing key first, then next keys, then previous ones. */
  published: K[];
  /** Every key with its status, in activation order. */
  states: KeyState<K>[];
  /** The next moment the decision changes on its own (an activation or a retirement), or null. */
  nextChangeAt: number | null;
}

const byActivation = (a: KeyTimes, b: KeyTimes) => a.activatesAt - b.activatesAt || a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0);

/**
 * Decides, at `now`, which key signs and which are published. `retainAfterMs` is how long a key
 * stays published after it stopped signing: at least the longest token lifetime (plus clock skew).
 */
export function nextKeySet<K extends KeyTimes>(keys: readonly K[], now: number, retainAfterMs: number): KeySetDecision<K> {
  const ordered = [...keys].sort(byActivation);
  // Revocation does not wait for any clock: an instance whose clock lags must not keep signing.
  const usable = ordered.filter((key) => key.revokedAt === null);
  const activated = usable.filter((key) => key.activatesAt <= now);
  // Normally a key has always activated (the first key activates when created). If none has
  // (a clock set back, hand-edited data), the earliest next key signs rather than nothing.
  const signing = activated.at(-1) ?? usable[0] ?? null;

  const states: KeyState<K>[] = [];
  const changes: number[] = [];
  for (const key of ordered) {
    if (key.revokedAt !== null) {
      states.push({ key, status: 'revoked', signsUntil: key.revokedAt, publishedUntil: key.revokedAt });
      continue;
    }
    if (key === signing) {
      const successor = usable.find((other) => byActivation(other, key) > 0);
      states.push({ key, status: 'current', signsUntil: successor?.activatesAt ?? null, publishedUntil: null });
      continue;
    }
    if (key.activatesAt > now) {
      changes.push(key.activatesAt);
      states.push({ key, status: 'next', signsUntil: null, publishedUntil: null });
      continue;
    }
    // Activated but not signing: it signed until the key activated right after it (revoked or not,
    // that key did sign from then on).
    const successor = ordered.find((other) => byActivation(other, key) > 0 && other.activatesAt <= now);
    const signsUntil = successor?.activatesAt ?? now;
    const publishedUntil = signsUntil + retainAfterMs;
    if (publishedUntil > now) changes.push(publishedUntil);
    states.push({ key, status: publishedUntil > now ? 'previous' : 'retired', signsUntil, publishedUntil });
  }

  const published = [
    ...(signing ? [signing] : []),
    ...states.filter((state) => state.status === 'next').map((state) => state.key),
    ...states.filter((state) => state.status === 'previous').map((state) => state.key).reverse(),
  ];
  return { signing, published, states, nextChangeAt: changes.length > 0 ? Math.min(...changes) : null };
}
