/**
 * Admins are identities holding the admin role. Rules:
 * - granting creates the identity when it does not exist yet (the first admin of a fresh install);
 * - the last admin cannot lose the role: nobody could sign in to the console to fix it;
 * - the console warns while fewer than two admins hold a passkey (one lost device would lock
 *   everyone out), as the integration guide recommends.
 */
import type { IdentityRecord, Store } from '../ports/storage.ts';
import { ADMIN_ROLE } from './apps.ts';
import { AppError } from './errors.ts';
import type { IdentityService } from './identities.ts';
import type { Actor } from './actor.ts';

export const MIN_ADMINS_WITH_PASSKEYS = 2;

/** What a fresh install's operator runs to get the first admin (said by the start-up log and the sign-in page). */
export const FIRST_ADMIN_COMMAND = 'npx latchkey admins add you@example.com';

export function createAdminService(deps: { store: Store; identities: IdentityService; now: () => number }) {
  const { store, identities } = deps;

  async function list(): Promise<Array<IdentityRecord & { passkeys: number }>> {
    const page = await store.identities.query({ role: ADMIN_ROLE, offset: 0, limit: 1000, now: deps.now() });
    return Promise.all(page.items.map(async (identity) => ({ ...identity, passkeys: (await store.passkeys.listByIdentity(identity.id)).length })));
  }

  async function grant(input: { userName: string; email?: string }, actor: Actor): Promise<{ identity: IdentityRecord; created: boolean }> {
    const existing = await identities.findByUserName(input.userName);
    if (existing) {
      if (existing.roles.includes(ADMIN_ROLE)) return { identity: existing, created: false };
      return { identity: await identities.update(existing.id, { roles: [...existing.roles, ADMIN_ROLE] }, actor), created: false };
    }
    const email = input.email ?? (input.userName.includes('@') ? input.userName : undefined);
    if (!email) throw new AppError('invalid_input', `"${input.userName}" is not an email address: pass --email <address> for the new admin`, { field: 'email' });
    return { identity: await identities.create({ userName: input.userName, email, roles: [ADMIN_ROLE] }, actor), created: true };
  }

  async function revoke(idOrUserName: string, actor: Actor): Promise<IdentityRecord> {
    const identity = await identities.resolve(idOrUserName);
    if (!identity.roles.includes(ADMIN_ROLE)) return identity;
    const admins = await list();
    if (admins.length <= 1) throw new AppError('forbidden', `${identity.userName} is the last admin; grant the role to someone else first`);
    return identities.update(identity.id, { roles: identity.roles.filter((role) => role !== ADMIN_ROLE) }, actor);
  }

  /**
   * Refuses a change that would leave no active admin able to sign in to the console (deleting or
   * deactivating the last one), the same rule `revoke` applies to the role.
   */
  async function guardLastAdmin(identity: IdentityRecord, change: 'deactivate' | 'delete'): Promise<void> {
    if (!identity.roles.includes(ADMIN_ROLE) || !identity.active) return;
    const others = (await list()).filter((admin) => admin.id !== identity.id && admin.active);
    if (others.length === 0) throw new AppError('forbidden', `${identity.userName} is the last active admin; grant the role to someone else before you ${change} them`);
  }

  /** True while nobody holds the admin role: a fresh install. */
  async function noAdminYet(): Promise<boolean> {
    // Whether one admin exists, not how many: no count over every identity (a full scan on SQLite).
    return (await store.identities.query({ role: ADMIN_ROLE, offset: 0, limit: 1, now: deps.now(), exactTotal: false })).items.length === 0;
  }

  /** The console's banner: how many admins can actually sign in. */
  async function readiness(): Promise<{ admins: number; withPasskeys: number; warning: string | null }> {
    const admins = await list();
    const withPasskeys = admins.filter((admin) => admin.active && admin.passkeys > 0).length;
    const warning =
      withPasskeys < MIN_ADMINS_WITH_PASSKEYS
        ? `Only ${withPasskeys} admin${withPasskeys === 1 ? ' has' : 's have'} a passkey. Make sure at least ${MIN_ADMINS_WITH_PASSKEYS} admins have one, so a lost device cannot lock everyone out of the console.`
        : null;
    return { admins: admins.length, withPasskeys, warning };
  }

  return { list, grant, revoke, readiness, guardLastAdmin, noAdminYet };
}

export type AdminService = ReturnType<typeof createAdminService>;
