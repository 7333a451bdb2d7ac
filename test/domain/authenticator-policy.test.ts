/** The authenticator policy's pure rules: evaluation, the strictest combination of overrides, changes. */
import { describe, expect, it } from 'vitest';
import { applyChange, effectivePolicy, EMPTY_POLICY_SET, evaluate, isOpen, registrationHints, type PasskeyFacts, type PolicySet } from '../../server/domain/authenticator-policy.ts';

const YUBIKEY = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
const ICLOUD = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
const SOLO = '8876631b-d4a0-427f-5773-0ec71c9e0279';

const securityKey: PasskeyFacts = { aaguid: YUBIKEY, deviceType: 'singleDevice', backedUp: false, attested: true };
const synced: PasskeyFacts = { aaguid: ICLOUD, deviceType: 'multiDevice', backedUp: true, attested: false };
// Backup-eligible but not yet backed up (BE=1, BS=0): still synced, its provider may copy it any time.
const eligible: PasskeyFacts = { aaguid: ICLOUD, deviceType: 'multiDevice', backedUp: false, attested: false };

const set = (over: Partial<PolicySet> = {}): PolicySet => ({ ...EMPTY_POLICY_SET, ...over });

describe('evaluate', () => {
  it('accepts every passkey under the open policy', () => {
    const policy = effectivePolicy(EMPTY_POLICY_SET, []);
    expect(isOpen(policy)).toBe(true);
    for (const facts of [securityKey, synced, eligible]) expect(evaluate(policy, facts)).toEqual({ allowed: true });
  });

  it('refuses synced (backup-eligible) passkeys when device-bound is required, and says what to use', () => {
    const policy = effectivePolicy(set({ deployment: { ...EMPTY_POLICY_SET.deployment, syncedPasskeys: 'deny' } }), []);
    expect(evaluate(policy, securityKey)).toEqual({ allowed: true });
    const verdict = evaluate(policy, eligible);
    expect(verdict).toMatchObject({ allowed: false, reasons: ['synced_not_allowed'] });
    expect(!verdict.allowed && verdict.advice).toMatch(/stays on one device, such as a security key or Windows Hello; synced passkeys from iCloud Keychain, Google Password Manager/);
    expect(evaluate(policy, synced)).toMatchObject({ allowed: false, reasons: ['synced_not_allowed'] });
  });

  it('applies an allow list, a block list (case-insensitively) and required attestation, naming every broken rule', () => {
    const allow = effectivePolicy(set({ deployment: { syncedPasskeys: 'allow', aaguids: { mode: 'allow', aaguids: [YUBIKEY] }, requireAttestation: true } }), []);
    expect(evaluate(allow, { ...securityKey, aaguid: YUBIKEY.toUpperCase() })).toEqual({ allowed: true });
    expect(evaluate(allow, synced)).toMatchObject({ allowed: false, reasons: ['model_not_allowed', 'attestation_required'] });
    expect(evaluate(allow, { ...securityKey, attested: false })).toMatchObject({ allowed: false, reasons: ['attestation_required'] });
    const block = effectivePolicy(set({ deployment: { syncedPasskeys: 'allow', aaguids: { mode: 'block', aaguids: [ICLOUD] }, requireAttestation: false } }), []);
    expect(evaluate(block, synced)).toMatchObject({ allowed: false, reasons: ['model_blocked'] });
    expect(evaluate(block, securityKey)).toEqual({ allowed: true });
  });
});

describe('effective policy of a person', () => {
  const policies = set({
    deployment: { syncedPasskeys: 'deny', aaguids: { mode: 'block', aaguids: [SOLO] }, requireAttestation: false },
    groups: {
      pilot: { syncedPasskeys: 'allow' },
      finance: { aaguids: { mode: 'allow', aaguids: [YUBIKEY, SOLO] } },
      admins: { aaguids: { mode: 'allow', aaguids: [YUBIKEY] }, requireAttestation: true },
    },
  });

  it('is the deployment policy for someone in no group with an override', () => {
    expect(effectivePolicy(policies, ['other'])).toMatchObject({ syncedPasskeys: 'deny', allowedAaguids: null, blockedAaguids: [SOLO], scopes: ['deployment'] });
  });

  it('lets an override replace the settings it names (it may loosen them) and inherit the rest', () => {
    const pilot = effectivePolicy(policies, ['pilot']);
    expect(pilot).toMatchObject({ syncedPasskeys: 'allow', blockedAaguids: [SOLO], requireAttestation: false, scopes: ['pilot'] });
    expect(evaluate(pilot, synced)).toEqual({ allowed: true });
  });

  it('combines several overrides strictly: any deny, every allow list, every block list, any attestation', () => {
    const both = effectivePolicy(policies, ['finance', 'pilot', 'admins']);
    expect(both).toEqual({ syncedPasskeys: 'deny', allowedAaguids: [YUBIKEY], blockedAaguids: [SOLO], requireAttestation: true, scopes: ['admins', 'finance', 'pilot'] });
    expect(evaluate(both, securityKey)).toEqual({ allowed: true });
    expect(evaluate(both, { ...securityKey, aaguid: SOLO })).toMatchObject({ allowed: false, reasons: ['model_not_allowed', 'model_blocked'] });
  });

  it('asks the browser for attestation and a device-bound authenticator only when the policy needs them', () => {
    expect(registrationHints(effectivePolicy(EMPTY_POLICY_SET, []))).toEqual({ attestation: 'none', deviceBound: false });
    expect(registrationHints(effectivePolicy(set({ deployment: { ...EMPTY_POLICY_SET.deployment, syncedPasskeys: 'deny' } }), []))).toEqual({ attestation: 'none', deviceBound: true });
    // A block list too: with attestation "none" the browser may report a zeroed AAGUID.
    expect(registrationHints(effectivePolicy(policies, []))).toEqual({ attestation: 'direct', deviceBound: true });
    expect(registrationHints(effectivePolicy(policies, ['finance']))).toEqual({ attestation: 'direct', deviceBound: true });
  });
});

describe('applyChange', () => {
  it('merges into the deployment policy and into an override, null inheriting again; an empty override is removed', () => {
    const first = applyChange(EMPTY_POLICY_SET, 'deployment', { syncedPasskeys: 'deny' });
    expect(first.deployment).toEqual({ syncedPasskeys: 'deny', aaguids: { mode: 'any' }, requireAttestation: false });
    const withGroup = applyChange(first, { groupId: 'g' }, { requireAttestation: true, syncedPasskeys: 'allow' });
    expect(withGroup.groups).toEqual({ g: { requireAttestation: true, syncedPasskeys: 'allow' } });
    expect(applyChange(withGroup, { groupId: 'g' }, { requireAttestation: null }).groups).toEqual({ g: { syncedPasskeys: 'allow' } });
    expect(applyChange(withGroup, { groupId: 'g' }, { requireAttestation: null, syncedPasskeys: null }).groups).toEqual({});
    expect(() => applyChange(first, 'deployment', { syncedPasskeys: null })).toThrow(/cannot inherit/);
  });
});
