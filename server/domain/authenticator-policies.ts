/**
 * The authenticator policy as a domain service: stored, changed, watched and enforced. Rules:
 * - One document (the deployment policy and the group overrides) in the store's settings,
 *   changed only by compare-and-set, so two administrators editing at once never lose a change.
 * - Every change is published on store.changes (POLICY_TOPIC); a watching process (every server
 *   instance) re-reads at once, and a process that does not watch (the CLI) reads on every use.
 * - Registration is refused before anything is written (the enrollment link stays unspent) when
 *   the new passkey does not meet the person's effective policy; sign-in is refused for a
 *   passkey created before the policy tightened. Both are audited with the reasons.
 * - A change can be previewed: who would hold a passkey that no longer meets it (dry run).
 */
import type { IdentityRecord, PasskeyRecord, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import type { AuditLog } from './audit.ts';
import type { Actor } from './actor.ts';
import { AppError } from './errors.ts';
import { ADMIN_ROLE } from './apps.ts';
import { displayNameOf } from './identities.ts';
import { authenticatorModel } from './authenticator-models.ts';
import { stillAttested } from './authenticator-catalogue.ts';
import {
  applyChange,
  effectivePolicy,
  EMPTY_POLICY_SET,
  evaluate,
  isOpen,
  isSynced,
  normaliseAaguid,
  registrationHints,
  type AaguidRule,
  type EffectivePolicy,
  type PasskeyFacts,
  type PolicyChange,
  type PolicyReason,
  type PolicySet,
} from './authenticator-policy.ts';

export const POLICY_SETTING = 'authenticator_policy';
export const POLICY_TOPIC = 'authenticator-policy';

/** A passkey refused by the policy; `reasons` are the rules it broke, the message is the person's advice. */
export class PolicyRefusal extends AppError {
  readonly reasons: PolicyReason[];
  constructor(message: string, reasons: PolicyReason[]) {
    super('passkey_not_allowed', message);
    this.reasons = reasons;
  }
}

export interface AffectedPasskey {
  id: string;
  name: string;
  model: string | null;
  aaguid: string;
  synced: boolean;
  attested: boolean;
  reasons: PolicyReason[];
  /** It meets the policy in force now: the change is what would refuse it. */
  newlyRefused: boolean;
}

export interface AffectedPerson {
  identityId: string;
  userName: string;
  name: string;
  admin: boolean;
  passkeys: AffectedPasskey[];
  compliantPasskeys: number;
  /** No passkey of theirs would meet the policy: they cannot sign in until they enroll a compliant one. */
  lockedOut: boolean;
}

export interface AffectedReport {
  people: AffectedPerson[];
  totals: { people: number; passkeys: number; lockedOut: number; admins: number };
}

/** What set() was asked: one scope (the deployment or a group, by name or id) and the settings to change. */
export interface PolicyUpdate {
  group?: string;
  syncedPasskeys?: 'allow' | 'deny' | 'inherit';
  aaguids?: { mode: 'any' } | { mode: 'allow' | 'block'; aaguids: string[] } | { mode: 'inherit' };
  requireAttestation?: boolean | 'inherit';
}

export const factsOf = (passkey: Pick<PasskeyRecord, 'aaguid' | 'deviceType' | 'backedUp' | 'attested'>): PasskeyFacts => ({
  aaguid: passkey.aaguid,
  deviceType: passkey.deviceType,
  backedUp: passkey.backedUp,
  attested: stillAttested(passkey),
});

const PAGE = 500;

export function createAuthenticatorPolicies(deps: { store: Store; clock: Clock; audit: AuditLog }) {
  const { store, clock, audit } = deps;
  let cached: PolicySet | null = null;

  function parse(raw: string | null): PolicySet {
    if (!raw) return EMPTY_POLICY_SET;
    const stored = JSON.parse(raw) as Partial<PolicySet>;
    return { deployment: { ...EMPTY_POLICY_SET.deployment, ...stored.deployment }, groups: stored.groups ?? {} };
  }

  async function load(): Promise<{ raw: string | null; set: PolicySet }> {
    const raw = await store.settings.get(POLICY_SETTING);
    return { raw, set: parse(raw) };
  }

  /** The policy set in force: the watched copy in a server, else read now. */
  async function current(): Promise<PolicySet> {
    return cached ?? (await load()).set;
  }

  /**
   * Keeps a copy and re-reads it whenever any process publishes a change; returns the stop
   * function. Listen first, then load: a change between the two is heard, not lost.
   */
  async function watch(onError: (error: unknown) => void = () => undefined): Promise<() => void> {
    let stopped = false;
    const reload = () => {
      load().then(({ set }) => { if (!stopped) cached = set; }, onError);
    };
    const unsubscribe = store.changes.subscribe(POLICY_TOPIC, reload);
    cached = (await load()).set;
    return () => {
      stopped = true;
      cached = null;
      unsubscribe();
    };
  }

  async function effectiveFor(identityId: string, set?: PolicySet, knownGroupIds?: readonly string[]): Promise<EffectivePolicy> {
    return effectivePolicy(set ?? (await current()), knownGroupIds ? [...knownGroupIds] : await store.groups.groupIdsOf(identityId));
  }

  /** What the browser should be asked for at this person's registration. */
  async function registrationRequirements(identityId: string) {
    return registrationHints(await effectiveFor(identityId));
  }

  /** The person-facing requirement, or null when any passkey is accepted (the enrollment page shows it). */
  async function requirementFor(identityId: string): Promise<EffectivePolicy | null> {
    const policy = await effectiveFor(identityId);
    return isOpen(policy) ? null : policy;
  }

  /** Throws PolicyRefusal (audited) unless the new passkey meets the person's effective policy. */
  async function assertMayRegister(identity: Pick<IdentityRecord, 'id'>, passkey: PasskeyFacts & { attestationFormat: string }, actor: Actor): Promise<void> {
    const policy = await effectiveFor(identity.id);
    const verdict = evaluate(policy, passkey);
    if (verdict.allowed) return;
    await audit.record({
      kind: 'enrollment',
      action: 'passkey.register_refused',
      actor,
      target: `identity:${identity.id}`,
      outcome: 'failure',
      detail: { reasons: verdict.reasons, aaguid: passkey.aaguid, deviceType: passkey.deviceType, attestationFormat: passkey.attestationFormat, attested: stillAttested(passkey), scopes: policy.scopes },
    });
    throw new PolicyRefusal(`This passkey cannot be used. ${verdict.advice}`, verdict.reasons);
  }

  /**
   * Throws PolicyRefusal unless this existing passkey still meets the policy (the caller audits the
   * sign-in). `groupIds`: the owner's groups when the caller already read them with the identity.
   */
  async function assertMaySignIn(passkey: PasskeyRecord, groupIds?: readonly string[]): Promise<void> {
    const verdict = evaluate(await effectiveFor(passkey.identityId, undefined, groupIds), factsOf(passkey));
    if (verdict.allowed) return;
    throw new PolicyRefusal(
      `This passkey no longer meets your organisation's sign-in policy. ${verdict.advice.replace('Create a passkey', 'To sign in, enroll a new passkey')}`,
      verdict.reasons,
    );
  }

  /** Whether each of these passkeys meets its owner's effective policy now (the console's passkeys tab). */
  async function verdictsFor(identityId: string, passkeys: PasskeyRecord[]) {
    const policy = await effectiveFor(identityId);
    return { policy, verdicts: new Map(passkeys.map((passkey) => [passkey.id, evaluate(policy, factsOf(passkey))])) };
  }

  /** Everyone who holds a passkey that `proposed` (default: the policy in force) would refuse. */
  async function affected(proposed?: PolicySet): Promise<AffectedReport> {
    const now = await current();
    const target = proposed ?? now;
    const people: AffectedPerson[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.identities.query({ status: 'enrolled', offset, limit: PAGE, now: clock.now() });
      for (const identity of page.items) {
        const groupIds = await store.groups.groupIdsOf(identity.id);
        const before = effectivePolicy(now, groupIds);
        const after = effectivePolicy(target, groupIds);
        const passkeys = await store.passkeys.listByIdentity(identity.id);
        const refused: AffectedPasskey[] = [];
        for (const passkey of passkeys) {
          const verdict = evaluate(after, factsOf(passkey));
          if (verdict.allowed) continue;
          refused.push({
            id: passkey.id,
            name: passkey.name,
            model: authenticatorModel(passkey.aaguid),
            aaguid: passkey.aaguid,
            synced: isSynced(passkey),
            attested: stillAttested(passkey),
            reasons: verdict.reasons,
            newlyRefused: evaluate(before, factsOf(passkey)).allowed,
          });
        }
        if (refused.length === 0) continue;
        people.push({
          identityId: identity.id,
          userName: identity.userName,
          name: displayNameOf(identity),
          admin: identity.roles.includes(ADMIN_ROLE),
          passkeys: refused,
          compliantPasskeys: passkeys.length - refused.length,
          lockedOut: refused.length === passkeys.length,
        });
      }
      if (page.items.length < PAGE) break;
    }
    return {
      people,
      totals: {
        people: people.length,
        passkeys: people.reduce((sum, person) => sum + person.passkeys.length, 0),
        lockedOut: people.filter((person) => person.lockedOut).length,
        admins: people.filter((person) => person.admin && person.lockedOut).length,
      },
    };
  }

  async function resolveGroup(name: string, set: PolicySet): Promise<{ id: string; displayName: string | null }> {
    const group = (await store.groups.getByDisplayName(name)) ?? (await store.groups.get(name));
    if (group) return { id: group.id, displayName: group.displayName };
    // An override left behind by a deleted group can still be named by its id, to clear it.
    if (set.groups[name]) return { id: name, displayName: null };
    throw new AppError('not_found', `no group "${name}"`, { field: 'group' });
  }

  function changeOf(update: PolicyUpdate, forGroup: boolean): PolicyChange {
    const inherit = (what: string) => {
      if (!forGroup) throw new AppError('invalid_input', `the deployment policy cannot inherit ${what}: only a group override can`, { field: what });
      return null;
    };
    let aaguids: AaguidRule | null | undefined;
    if (update.aaguids?.mode === 'inherit') aaguids = inherit('aaguids');
    else if (update.aaguids?.mode === 'any') aaguids = { mode: 'any' };
    else if (update.aaguids) {
      const list = [...new Set(update.aaguids.aaguids.map((value) => {
        try {
          return normaliseAaguid(value);
        } catch (error) {
          throw new AppError('invalid_input', (error as Error).message, { field: 'aaguids' });
        }
      }))].sort();
      if (list.length === 0) throw new AppError('invalid_input', `an AAGUID ${update.aaguids.mode} list needs at least one AAGUID`, { field: 'aaguids' });
      aaguids = { mode: update.aaguids.mode, aaguids: list };
    }
    return {
      syncedPasskeys: update.syncedPasskeys === 'inherit' ? inherit('syncedPasskeys') : update.syncedPasskeys,
      aaguids,
      requireAttestation: update.requireAttestation === 'inherit' ? inherit('requireAttestation') : update.requireAttestation,
    };
  }

  /**
   * Changes one scope. With dryRun nothing is written: the answer is the policy it would make and
   * who would be affected. Otherwise it is written (retrying if another change raced it), published
   * to every instance, and audited.
   */
  async function set(update: PolicyUpdate, actor: Actor, options: { dryRun?: boolean } = {}) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { raw, set: before } = await load();
      const group = update.group !== undefined ? await resolveGroup(update.group, before) : null;
      const after = applyChange(before, group ? { groupId: group.id } : 'deployment', changeOf(update, group !== null));
      const report = await affected(after);
      if (options.dryRun) return { applied: false, group, policy: after, affected: report };
      if (!(await store.settings.compareAndSet(POLICY_SETTING, raw, JSON.stringify(after)))) continue;
      cached = cached ? after : null;
      await store.changes.publish(POLICY_TOPIC);
      await audit.record({
        action: 'policy.set',
        actor,
        target: group ? `group:${group.id}` : null,
        detail: { scope: group ? 'group' : 'deployment', group: group?.displayName ?? null, policy: group ? after.groups[group.id] ?? null : after.deployment, affectedPeople: report.totals.people, lockedOut: report.totals.lockedOut },
      });
      return { applied: true, group, policy: after, affected: report };
    }
    throw new AppError('stale', 'the passkey policy kept changing while this change was saved; try again');
  }

  /** Removes a group's override: its members fall back to the deployment policy (or their other groups' overrides). */
  async function clear(groupName: string, actor: Actor, options: { dryRun?: boolean } = {}) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { raw, set: before } = await load();
      const group = await resolveGroup(groupName, before);
      if (!before.groups[group.id]) throw new AppError('not_found', `group "${groupName}" has no passkey policy override`, { field: 'group' });
      const groups = { ...before.groups };
      delete groups[group.id];
      const after = { ...before, groups };
      const report = await affected(after);
      if (options.dryRun) return { applied: false, policy: after, affected: report };
      if (!(await store.settings.compareAndSet(POLICY_SETTING, raw, JSON.stringify(after)))) continue;
      cached = cached ? after : null;
      await store.changes.publish(POLICY_TOPIC);
      await audit.record({ action: 'policy.clear', actor, target: `group:${group.id}`, detail: { scope: 'group', group: group.displayName, affectedPeople: report.totals.people } });
      return { applied: true, policy: after, affected: report };
    }
    throw new AppError('stale', 'the passkey policy kept changing while this change was saved; try again');
  }

  /** The stored set with each override's group name (null: the group was deleted). */
  async function describe() {
    const policySet = await current();
    const overrides = await Promise.all(Object.entries(policySet.groups).map(async ([groupId, override]) => ({
      groupId,
      group: (await store.groups.get(groupId))?.displayName ?? null,
      override,
    })));
    return { deployment: policySet.deployment, overrides };
  }

  /** True while a watched copy answers current() (a server instance), false when every use reads the store (the CLI). */
  const watching = () => cached !== null;

  return { current, watching, watch, effectiveFor, registrationRequirements, requirementFor, assertMayRegister, assertMaySignIn, verdictsFor, affected, set, clear, describe };
}

export type AuthenticatorPolicies = ReturnType<typeof createAuthenticatorPolicies>;
