/**
 * Signing in with a passkey, as one domain operation, whatever page asked for it. Rules:
 * - the passkey is found by the credential id the browser claims, and must belong to the person
 *   named by login_hint when there is one;
 * - the assertion is verified by the ceremony port against the challenge bound to this attempt
 *   (WebAuthn L3 §7.2), then its use is recorded atomically: of two racing uses of one signature
 *   counter exactly one wins, and a counter that goes backwards is refused; a use that moves no
 *   counter writes lastUsedAt at most once a minute;
 * - the person must be active and may sign in to this app (apps.assertMaySignIn);
 * - the passkey must still meet the person's authenticator policy (one created before the policy
 *   tightened is refused, with what to do instead);
 * - every outcome is audited; the result names the passkey, so the session it opens records it
 *   and revoking that passkey can end it.
 * - A step-up is a fresh ceremony by someone already signed in, before a sensitive action (adding
 *   a passkey, minting a link for an administrator): a challenge bound to their session, answered
 *   with one of their own passkeys with user verification, in the same request as the action.
 *   Challenges expire after 5 minutes and are consumed on use, so the proof is never older.
 */
import { lastUsedIsStale } from './last-used.ts';
import type { IdentityRecord, PasskeyRecord, Store } from '../ports/storage.ts';
import type { Clock } from '../ports/clock.ts';
import type { PasskeyCeremonies } from '../ports/passkey-ceremonies.ts';
import type { AuditLog } from './audit.ts';
import type { AppService } from './apps.ts';
import { selfActor, type Actor } from './actor.ts';
import { AppError, isAppError } from './errors.ts';
import { PolicyRefusal, type AuthenticatorPolicies } from './authenticator-policies.ts';

export interface SignInAttempt {
  /** The browser's assertion (PublicKeyCredential JSON). */
  response: unknown;
  /** What the challenge was issued for, e.g. "interaction:<uid>". */
  binding: string;
  loginHint: string | null;
  clientId: string;
  redirectUri?: string;
}

export interface SignIn {
  identity: IdentityRecord;
  /** The passkey that signed in: the session this opens records it. */
  passkey: PasskeyRecord;
  userVerified: boolean;
  at: number;
}

/** Thrown for every refused attempt; `identityId` is known when the passkey was. */
export class SignInRefused extends AppError {
  readonly identityId: string | null;
  constructor(cause: AppError, identityId: string | null) {
    super(cause.code, cause.message, { field: cause.field, cause });
    this.identityId = identityId;
  }
}

/**
 * A use is written when the signature counter moved (WebAuthn L3 §7.2 step 21: the stored value
 * must follow it, and the compare-and-set makes one of two racing uses lose), or when lastUsedAt is
 * stale (last-used.ts). A counter that stays put is 0 on both sides (synced passkeys report 0; the
 * ceremony refuses any other counter that does not grow), so skipping that write loses nothing the
 * counter check relies on.
 */
export function passkeyUseWorthWriting(passkey: Pick<PasskeyRecord, 'counter' | 'lastUsedAt'>, newCounter: number, now: number): boolean {
  return newCounter !== passkey.counter || lastUsedIsStale(passkey.lastUsedAt, now);
}

export function createSignIns(deps: { store: Store; clock: Clock; audit: AuditLog; apps: Pick<AppService, 'assertMaySignIn'>; ceremonies: PasskeyCeremonies; policies: Pick<AuthenticatorPolicies, 'assertMaySignIn'> }) {
  const { store, clock, audit, apps, ceremonies, policies } = deps;

  /** Verifies the assertion and records the passkey's use; the caller decides what the passkey may open. */
  async function verifyPasskey(binding: string, response: unknown, expectedIdentityId: string | null, hint: string | null): Promise<{ passkey: PasskeyRecord; userVerified: boolean }> {
    const passkey = await store.passkeys.get(ceremonies.credentialIdOf(response));
    if (!passkey) throw new AppError('passkey_invalid', 'This passkey is not registered with this sign-in service. Use another passkey or ask for an enrollment link.');
    if (expectedIdentityId && expectedIdentityId !== passkey.identityId) {
      throw new SignInRefused(new AppError('passkey_invalid', hint ? `This passkey belongs to another account, not ${hint}.` : 'This passkey belongs to another account.'), passkey.identityId);
    }
    try {
      const result = await ceremonies.verifyAuthentication(binding, response, passkey);
      const now = clock.now();
      if (passkeyUseWorthWriting(passkey, result.newCounter, now) && !(await store.passkeys.recordUse(passkey.id, passkey.counter, result.newCounter, now))) {
        throw new AppError('passkey_invalid', 'This passkey was used by another sign-in at the same moment; try again.');
      }
      return { passkey, userVerified: result.userVerified };
    } catch (error) {
      if (isAppError(error) && !(error instanceof SignInRefused)) throw new SignInRefused(error, passkey.identityId);
      throw error;
    }
  }

  /** The passkey step of a sign-in to an app (the provider's login interaction). */
  async function authenticate(attempt: SignInAttempt): Promise<SignIn> {
    let identityId: string | null = null;
    try {
      const hinted = attempt.loginHint ? await store.identities.getByUserName(attempt.loginHint) : null;
      const { passkey, userVerified } = await verifyPasskey(attempt.binding, attempt.response, hinted?.id ?? null, attempt.loginHint);
      identityId = passkey.identityId;
      // The person and their groups in one read: both decide whether they may sign in to the app.
      const subject = await store.identities.getWithGroupIds(passkey.identityId);
      if (!subject) throw new AppError('passkey_invalid', 'The account of this passkey no longer exists.');
      const { identity } = subject;
      await apps.assertMaySignIn(attempt.clientId, identity, attempt.redirectUri, subject.groupIds);
      // A passkey created before the policy tightened is refused here, after it proved who this is.
      await policies.assertMaySignIn(passkey, subject.groupIds);
      await audit.record({ kind: 'auth', action: 'signin.success', actor: selfActor(identity.id), target: `app:${attempt.clientId}`, detail: { passkeyId: passkey.id } });
      return { identity, passkey, userVerified, at: clock.now() };
    } catch (error) {
      if (!isAppError(error)) throw error;
      const refused = error instanceof SignInRefused ? error : new SignInRefused(error, identityId);
      const policyReasons = refused.cause instanceof PolicyRefusal ? { policyReasons: refused.cause.reasons } : {};
      await audit.record({ kind: 'auth', action: 'signin.failure', actor: refused.identityId ? selfActor(refused.identityId) : 'anonymous', target: `app:${attempt.clientId}`, outcome: 'failure', detail: { reason: refused.code, ...policyReasons } });
      throw refused;
    }
  }

  /** The challenge of a step-up, offered for the person's own passkeys only. */
  async function stepUpOptions(identityId: string, binding: string) {
    const own = await store.passkeys.listByIdentity(identityId);
    if (own.length === 0) throw new AppError('forbidden', 'You have no passkey to confirm this with; ask an administrator for an enrollment link.');
    return ceremonies.authenticationOptions(binding, own);
  }

  /** Verifies a step-up assertion by this person for `purpose`; returns the passkey that confirmed it. */
  async function stepUp(input: { identityId: string; binding: string; response: unknown; purpose: string; actor: Actor }): Promise<PasskeyRecord> {
    try {
      if (input.response === undefined || input.response === null) throw new AppError('forbidden', 'Confirm with your passkey first: this action needs a fresh passkey check (step-up).');
      const { passkey, userVerified } = await verifyPasskey(input.binding, input.response, input.identityId, null);
      // The ceremony port already requires it (WebAuthn L3 §6.2.3); a step-up must never rest on presence alone.
      if (!userVerified) throw new AppError('passkey_invalid', 'The passkey did not verify you (no PIN or biometric check).');
      await audit.record({ action: 'stepup.success', actor: input.actor, target: `identity:${input.identityId}`, detail: { purpose: input.purpose, passkeyId: passkey.id } });
      return passkey;
    } catch (error) {
      if (!isAppError(error)) throw error;
      await audit.record({ action: 'stepup.failure', actor: input.actor, target: `identity:${input.identityId}`, outcome: 'failure', detail: { purpose: input.purpose, reason: error.code } });
      throw error;
    }
  }

  return { authenticate, verifyPasskey, stepUpOptions, stepUp };
}

export type SignIns = ReturnType<typeof createSignIns>;
