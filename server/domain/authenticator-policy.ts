/**
 * Which passkeys an organisation accepts: pure rules, no storage. Rules:
 * - a policy may deny synced passkeys: a backup-eligible credential (WebAuthn L3 §6.1 flag BE,
 *   SimpleWebAuthn's deviceType 'multiDevice') can be copied off the device by its provider, so
 *   only 'singleDevice' credentials are device-bound;
 * - it may allow only listed authenticator models (AAGUID allow list) or refuse listed ones
 *   (block list). Without verified attestation an AAGUID is the authenticator's own claim;
 * - it may require verified attestation (the chain checked against the FIDO metadata statement).
 * - One deployment-wide policy; a group override replaces the settings it names for the group's
 *   members and inherits the others. A person in several groups with overrides gets the
 *   strictest combination of them (effectivePolicy), never the loosest: synced denied if any
 *   denies, attestation required if any requires it, a model must be on every allow list and on
 *   no block list.
 */

export type AaguidRule = { mode: 'any' } | { mode: 'allow'; aaguids: string[] } | { mode: 'block'; aaguids: string[] };

export interface AuthenticatorPolicy {
  syncedPasskeys: 'allow' | 'deny';
  aaguids: AaguidRule;
  requireAttestation: boolean;
}

/** A group's override: each setting it leaves out is inherited from the deployment policy. */
export type PolicyOverride = Partial<AuthenticatorPolicy>;

/** What is stored: the deployment policy and the overrides by group id. */
export interface PolicySet {
  deployment: AuthenticatorPolicy;
  groups: Record<string, PolicyOverride>;
}

/** The combined rules that apply to one person; `scopes` names where they came from. */
export interface EffectivePolicy {
  syncedPasskeys: 'allow' | 'deny';
  /** null: any model; otherwise only these (the intersection of every allow list that applies). */
  allowedAaguids: string[] | null;
  blockedAaguids: string[];
  requireAttestation: boolean;
  /** 'deployment', or the group ids whose overrides applied. */
  scopes: string[];
}

export interface PasskeyFacts {
  aaguid: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  attested: boolean;
}

export type PolicyReason = 'synced_not_allowed' | 'model_not_allowed' | 'model_blocked' | 'attestation_required';

export type PolicyVerdict = { allowed: true } | { allowed: false; reasons: PolicyReason[]; advice: string };

/** What a fresh deployment accepts: any passkey, as before policies existed. */
export const OPEN_POLICY: AuthenticatorPolicy = Object.freeze({ syncedPasskeys: 'allow', aaguids: Object.freeze({ mode: 'any' }), requireAttestation: false }) as AuthenticatorPolicy;

export const EMPTY_POLICY_SET: PolicySet = { deployment: OPEN_POLICY, groups: {} };

const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Lower-cased and checked; throws an Error naming the bad value (callers translate it). */
export function normaliseAaguid(value: string): string {
  const aaguid = value.trim().toLowerCase();
  if (!AAGUID.test(aaguid)) throw new Error(`"${value}" is not an AAGUID (expected 8-4-4-4-12 hex digits, e.g. cb69481e-8ff7-4039-93ec-0a2729a154a8)`);
  return aaguid;
}

/** The deployment policy with a group's override applied on top. */
export function resolveOverride(deployment: AuthenticatorPolicy, override: PolicyOverride): AuthenticatorPolicy {
  return {
    syncedPasskeys: override.syncedPasskeys ?? deployment.syncedPasskeys,
    aaguids: override.aaguids ?? deployment.aaguids,
    requireAttestation: override.requireAttestation ?? deployment.requireAttestation,
  };
}

/**
 * The rules for a member of `groupIds`: the deployment policy when none of them has an override,
 * else the strictest combination of the resolved overrides of those that do.
 */
export function effectivePolicy(set: PolicySet, groupIds: readonly string[]): EffectivePolicy {
  const overridden = [...new Set(groupIds)].filter((id) => set.groups[id]).sort();
  const policies = overridden.length === 0 ? [set.deployment] : overridden.map((id) => resolveOverride(set.deployment, set.groups[id]!));
  let allowed: string[] | null = null;
  const blocked = new Set<string>();
  for (const policy of policies) {
    if (policy.aaguids.mode === 'allow') {
      const list = policy.aaguids.aaguids;
      allowed = allowed === null ? [...list] : allowed.filter((aaguid) => list.includes(aaguid));
    } else if (policy.aaguids.mode === 'block') {
      for (const aaguid of policy.aaguids.aaguids) blocked.add(aaguid);
    }
  }
  return {
    syncedPasskeys: policies.some((policy) => policy.syncedPasskeys === 'deny') ? 'deny' : 'allow',
    allowedAaguids: allowed,
    blockedAaguids: [...blocked].sort(),
    requireAttestation: policies.some((policy) => policy.requireAttestation),
    scopes: overridden.length === 0 ? ['deployment'] : overridden,
  };
}

/** True when the policy accepts every passkey (nothing to enforce, nothing to tell the person). */
export function isOpen(policy: EffectivePolicy): boolean {
  return policy.syncedPasskeys === 'allow' && policy.allowedAaguids === null && policy.blockedAaguids.length === 0 && !policy.requireAttestation;
}

/** Synced means backup-eligible (BE): its provider may copy it to other devices, whether it has yet or not. */
export const isSynced = (facts: Pick<PasskeyFacts, 'deviceType'>): boolean => facts.deviceType === 'multiDevice';

export function evaluate(policy: EffectivePolicy, facts: PasskeyFacts): PolicyVerdict {
  const reasons: PolicyReason[] = [];
  const aaguid = facts.aaguid.toLowerCase();
  if (policy.syncedPasskeys === 'deny' && isSynced(facts)) reasons.push('synced_not_allowed');
  if (policy.allowedAaguids !== null && !policy.allowedAaguids.includes(aaguid)) reasons.push('model_not_allowed');
  if (policy.blockedAaguids.includes(aaguid)) reasons.push('model_blocked');
  if (policy.requireAttestation && !facts.attested) reasons.push('attestation_required');
  return reasons.length === 0 ? { allowed: true } : { allowed: false, reasons, advice: adviceFor(policy) };
}

/** What the person must use instead, said for a person, not an administrator. */
export function requirementOf(policy: EffectivePolicy): string {
  const parts: string[] = [];
  if (policy.syncedPasskeys === 'deny') {
    parts.push('a passkey that stays on one device, such as a security key or Windows Hello; synced passkeys from iCloud Keychain, Google Password Manager or a password manager are not accepted');
  }
  if (policy.allowedAaguids !== null) parts.push(policy.allowedAaguids.length === 0 ? 'no authenticator model is currently approved for your account' : 'one of the authenticator models your organisation approved (your administrator can tell you which)');
  else if (policy.blockedAaguids.length > 0) parts.push('an authenticator model your organisation has not blocked');
  if (policy.requireAttestation) parts.push('an authenticator whose make and model can be verified (most security keys; not a password manager)');
  return parts.join('; and ');
}

export function adviceFor(policy: EffectivePolicy): string {
  const requirement = requirementOf(policy);
  return `This organisation requires ${requirement || 'a different passkey'}. Create a passkey with a compliant authenticator: when your browser asks where to save it, choose a security key or this device rather than a password manager. If you need an enrollment link or a security key, ask your administrator.`;
}

/** How the browser should be asked (WebAuthn options); the server still checks the result. */
export function registrationHints(policy: EffectivePolicy): { attestation: 'none' | 'direct'; deviceBound: boolean } {
  // A model list is only as good as the AAGUID the browser reports: with attestation "none" a
  // client may replace it with zeros (WebAuthn L3 §5.4.7; Chromium does), so ask for it whenever
  // an allow or block list applies.
  const wantsAttestation = policy.requireAttestation || policy.allowedAaguids !== null || policy.blockedAaguids.length > 0;
  return { attestation: wantsAttestation ? 'direct' : 'none', deviceBound: policy.syncedPasskeys === 'deny' };
}

/** Merges one change into a scope's settings; `undefined` leaves a setting as it is, `null` (overrides only) inherits again. */
export interface PolicyChange {
  syncedPasskeys?: 'allow' | 'deny' | null;
  aaguids?: AaguidRule | null;
  requireAttestation?: boolean | null;
}

export function applyChange(set: PolicySet, scope: { groupId: string } | 'deployment', change: PolicyChange): PolicySet {
  if (scope === 'deployment') {
    for (const [key, value] of Object.entries(change)) if (value === null) throw new Error(`the deployment policy cannot inherit ${key}: give a value`);
    return { ...set, deployment: { ...set.deployment, ...(dropUndefined(change) as Partial<AuthenticatorPolicy>) } };
  }
  const merged: Record<string, unknown> = { ...(set.groups[scope.groupId] ?? {}) };
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) continue;
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  const groups = { ...set.groups };
  if (Object.keys(merged).length === 0) delete groups[scope.groupId];
  else groups[scope.groupId] = merged as PolicyOverride;
  return { ...set, groups };
}

const dropUndefined = (value: object) => Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined));
