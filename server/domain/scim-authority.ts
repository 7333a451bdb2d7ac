/**
 * What a SCIM token may do to people who hold a role (issue 9, item 5). A SCIM token is a bearer
 * secret kept in Okta; if it leaks, it must not be a way to take the console from its admins.
 * - SCIM cannot change an admin's email or userName: those are what Okta links logins by and where
 *   enrollment links go, so changing them is how an account is taken over. Operators change them
 *   in the console or on the CLI.
 * - SCIM cannot deactivate or delete the last active admin who has a passkey (nobody could sign
 *   in to the console to undo it). A departing admin is still deactivated when another active
 *   admin with a passkey remains: Okta's offboarding keeps working.
 * - Every SCIM change to an identity holding any role is audited as such and reported to the other
 *   admins, so a quiet change by a leaked token is seen.
 * Each refusal is AppError('forbidden'): the token is authenticated but not authorised for this
 * change (RFC 7644 §3.12: 403 "not permitted based on the supplied authorization").
 */
import type { IdentityRecord, Store } from '../ports/storage.ts';
import { emailKey, userNameKey } from '../ports/identity-keys.ts';
import type { Clock } from '../ports/clock.ts';
import type { Actor } from './actor.ts';
import { ADMIN_ROLE } from './apps.ts';
import type { AuditLog } from './audit.ts';
import { AppError } from './errors.ts';

/** What the other admins are told about a SCIM change to a privileged identity. */
export interface PrivilegedScimChange {
  identity: Pick<IdentityRecord, 'id' | 'userName' | 'roles'>;
  action: 'update' | 'deactivate' | 'activate' | 'delete';
  changed: string[];
  tokenId: string;
  at: number;
}

export type PrivilegedScimChangeListener = (change: PrivilegedScimChange) => Promise<unknown>;

/**
 * The notice the other admins get (the shape of security-notices.ts's SecurityNotice): what SCIM
 * changed on whom, with which token, and what to do if Okta did not mean it.
 */
export function privilegedScimChangeNotice(change: PrivilegedScimChange) {
  const verbs = { update: 'changed', deactivate: 'deactivated', activate: 'reactivated', delete: 'deleted' } as const;
  const who = `${change.identity.userName} (${change.identity.roles.join(', ')})`;
  return {
    event: `identity.scim_${change.action}`,
    subject: `SCIM ${verbs[change.action]} ${change.identity.userName}, who holds a Latchkey role`,
    summary: `Okta's provisioning (a SCIM token) ${verbs[change.action]} ${who}. If nobody changed this person in Okta, the SCIM token may have leaked: revoke it in the Latchkey console (Provisioning) or with \`latchkey scim-tokens revoke ${change.tokenId}\`, and check the audit log.`,
    at: change.at,
    facts: [
      ['Person', who] as [string, string],
      ['Change', change.changed.length ? change.changed.join(', ') : change.action] as [string, string],
      ['SCIM token', change.tokenId] as [string, string],
    ],
  };
}

const isAdmin = (identity: Pick<IdentityRecord, 'roles'>) => identity.roles.includes(ADMIN_ROLE);

export function createScimAuthority(deps: { store: Store; clock: Clock; audit: AuditLog; onPrivilegedChange?: PrivilegedScimChangeListener[] }) {
  const { store, clock, audit } = deps;
  const listeners = deps.onPrivilegedChange ?? [];

  /** Active admins other than `exceptId` who hold a passkey: who could still open the console. */
  async function otherAdminsWhoCanSignIn(exceptId: string): Promise<number> {
    const page = await store.identities.query({ role: ADMIN_ROLE, filter: { attr: 'active', value: true }, offset: 0, limit: 1000, now: clock.now() });
    const others = page.items.filter((admin) => admin.id !== exceptId).map((admin) => admin.id);
    const statuses = await store.identities.statuses(others, clock.now());
    return others.filter((id) => statuses.get(id) === 'enrolled').length;
  }

  async function refuseLockout(target: IdentityRecord, verb: 'deactivate' | 'delete'): Promise<void> {
    if (!isAdmin(target) || !target.active) return;
    const own = (await store.identities.statuses([target.id], clock.now())).get(target.id);
    if (own !== 'enrolled') return;
    if ((await otherAdminsWhoCanSignIn(target.id)) > 0) return;
    throw new AppError(
      'forbidden',
      `SCIM cannot ${verb} ${target.userName}: they are the last active admin with a passkey, so nobody could sign in to the console afterwards. Give another admin a passkey first, or ${verb} them from the console or CLI.`,
    );
  }

  /** Called before a SCIM update is written. */
  async function checkUpdate(current: IdentityRecord, next: IdentityRecord, actor: Actor): Promise<void> {
    if (actor.kind !== 'scim' || !isAdmin(current)) return;
    if (userNameKey(next.userName) !== userNameKey(current.userName)) {
      throw new AppError('forbidden', `SCIM cannot change the userName of ${current.userName}, who is a Latchkey admin; change it in the console or with the CLI`, { field: 'userName' });
    }
    if (emailKey(next.email) !== emailKey(current.email)) {
      throw new AppError('forbidden', `SCIM cannot change the email of ${current.userName}, who is a Latchkey admin; change it in the console or with the CLI`, { field: 'email' });
    }
    if (current.active && !next.active) await refuseLockout(current, 'deactivate');
  }

  /** Called before a SCIM delete. */
  async function checkRemove(current: IdentityRecord, actor: Actor): Promise<void> {
    if (actor.kind === 'scim') await refuseLockout(current, 'delete');
  }

  /** Called after a SCIM change was written: audit it as privileged and tell the other admins. */
  async function reportChange(before: IdentityRecord, after: IdentityRecord | null, changed: string[], actor: Actor): Promise<void> {
    if (actor.kind !== 'scim' || before.roles.length === 0) return;
    const action: PrivilegedScimChange['action'] = !after ? 'delete' : before.active && !after.active ? 'deactivate' : !before.active && after.active ? 'activate' : 'update';
    const change: PrivilegedScimChange = { identity: { id: before.id, userName: before.userName, roles: before.roles }, action, changed, tokenId: actor.id, at: clock.now() };
    await audit.record({ action: 'identity.scim_privileged_change', actor, target: `identity:${before.id}`, detail: { userName: before.userName, roles: before.roles, change: action, changed } });
    for (const listener of listeners) await listener(change);
  }

  return { checkUpdate, checkRemove, reportChange };
}

export type ScimAuthority = ReturnType<typeof createScimAuthority>;
