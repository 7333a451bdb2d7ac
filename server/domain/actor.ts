/**
 * Who performs a domain operation. Every service takes an Actor, never a free-form string, so the
 * audit log can tell an administrator acting on someone else from a person acting on their own
 * account (`self`), a SCIM token, the operator's CLI, or Latchkey itself (`system`).
 *
 * The audit log stores the actor as a readable reference string (actorRef) and the kind in its own
 * column. People are stored as `identity:<id>` whatever their role in the event, so "everything this
 * person did" is one lookup and the same reference names them as actor and as target.
 */
export type ActorKind = 'admin' | 'self' | 'scim' | 'cli' | 'system';

export interface Actor {
  readonly kind: ActorKind;
  /** admin/self: the identity id; scim: the SCIM token id; cli: "cli"; system: the subsystem ("mail", "okta-sync"). */
  readonly id: string;
}

export const adminActor = (identityId: string): Actor => ({ kind: 'admin', id: identityId });
export const selfActor = (identityId: string): Actor => ({ kind: 'self', id: identityId });
export const scimActor = (tokenId: string): Actor => ({ kind: 'scim', id: tokenId });
export const systemActor = (subsystem: string): Actor => ({ kind: 'system', id: subsystem });
/** The operator on the host: the root path (it can reach the store directly anyway). */
export const CLI_ACTOR: Actor = Object.freeze({ kind: 'cli', id: 'cli' });

/** The stored, readable form: `identity:<id>`, `scim-token:<id>`, `cli`, `system:<name>`. */
export function actorRef(actor: Actor): string {
  switch (actor.kind) {
    case 'admin':
    case 'self':
      return `identity:${actor.id}`;
    case 'scim':
      return `scim-token:${actor.id}`;
    case 'cli':
      return 'cli';
    case 'system':
      return `system:${actor.id}`;
  }
}

/** The identity behind an actor, when a person acts (admin or self). */
export const identityIdOf = (actor: Actor): string | null => (actor.kind === 'admin' || actor.kind === 'self' ? actor.id : null);
