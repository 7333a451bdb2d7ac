import type { AuditEvent, AuditRepository } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import { actorRef, type Actor } from './actor.ts';
import { timeOrderedId } from './time-ordered-id.ts';

/**
 * What a domain operation records. `kind` defaults to the actor's kind (admin, self, scim, cli,
 * system); protocol events name their own (auth, enrollment, okta-sync). `actor: 'anonymous'` is
 * for a sign-in attempt with a passkey nobody holds.
 */
export type AuditInput = Omit<AuditEvent, 'id' | 'at' | 'outcome' | 'detail' | 'target' | 'actor' | 'kind'> &
  Partial<Pick<AuditEvent, 'outcome' | 'detail' | 'target' | 'kind'>> & { actor: Actor | 'anonymous' };

export interface AuditLog {
  record(event: AuditInput): Promise<void>;
  /** The event record() would append, for a store write that appends it itself (WriteOptions.audit). */
  event(input: AuditInput): AuditEvent;
  list: AuditRepository['list'];
}

/** Audit details must never carry a secret: callers pass ids and names, never tokens or links. */
export function createAuditLog(repository: AuditRepository, clock: Clock): AuditLog {
  const event = ({ actor, kind, ...rest }: AuditInput): AuditEvent => ({
    // Appended in time order to an index on id (audit.id UNIQUE): see time-ordered-id.ts.
    id: timeOrderedId(),
    at: clock.now(),
    outcome: 'success',
    detail: {},
    target: null,
    ...rest,
    kind: kind ?? (actor === 'anonymous' ? 'auth' : actor.kind),
    actor: actor === 'anonymous' ? 'anonymous' : actorRef(actor),
  });
  return {
    async record(input) {
      await repository.append(event(input));
    },
    event,
    list: (query) => repository.list(query),
  };
}
