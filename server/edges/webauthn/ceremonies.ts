/**
 * Passkey ceremonies on @simplewebauthn/server (WebAuthn L3). Rules enforced here:
 * - challenges are 32 random bytes, stored per (ceremony, binding), consumed on first verify,
 *   expiring after CHALLENGE_TTL_MS (WebAuthn L3 §13.4.3: challenges must be single-use);
 * - origin and RP ID are checked against PUBLIC_URL;
 * - user verification is required in both ceremonies; only discoverable credentials are made;
 * - a signature counter that goes backwards is refused (possible cloned authenticator, §6.1.1).
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Clock } from '../../ports/clock.ts';
import type { OneTimeRepository, PasskeyRecord } from '../../ports/storage.ts';
import type { AssertionResult, PasskeyCeremonies, RegisteredCredential } from '../../ports/passkey-ceremonies.ts';
import { AppError } from '../../domain/errors.ts';
import { attestationResultOf } from './attestation-result.ts';

export const CHALLENGE_TTL_MS = 5 * 60 * 1000;

function challengeOf(response: unknown): string | null {
  const encoded = (response as { response?: { clientDataJSON?: unknown } } | null)?.response?.clientDataJSON;
  if (typeof encoded !== 'string' || encoded.length > 4096) return null;
  try {
    const challenge = (JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as { challenge?: unknown }).challenge;
    return typeof challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(challenge) ? challenge : null;
  } catch {
    return null;
  }
}

type Ceremony = 'registration' | 'authentication';

export function createPasskeyCeremonies(deps: { oneTime: OneTimeRepository; clock: Clock; rpId: string; rpName: string; origin: string }): PasskeyCeremonies {
  const { oneTime, clock, rpId, rpName, origin } = deps;
  // Keyed by the challenge itself as well as ceremony and binding: a page may hold two requests
  // at once (conditional autofill and the button), and each answer must find its own challenge.
  const keyOf = (ceremony: Ceremony, binding: string, challenge: string) => `webauthn:${ceremony}:${binding}:${challenge}`;

  // The challenge must be remembered server-side: the signed clientDataJSON echoes it, and
  // only a challenge we issued, for this binding, not yet used, proves the response is fresh.
  async function remember(ceremony: Ceremony, binding: string, challenge: string): Promise<void> {
    await oneTime.put(keyOf(ceremony, binding, challenge), '1', clock.now() + CHALLENGE_TTL_MS);
  }

  /** Consumes the challenge the response claims to answer; verification then checks the signature over it. */
  async function takeChallenge(ceremony: Ceremony, binding: string, response: unknown): Promise<string> {
    const claimed = challengeOf(response);
    if (!claimed || !(await oneTime.take(keyOf(ceremony, binding, claimed), clock.now()))) {
      throw new AppError('challenge_invalid', 'This passkey request expired or was already used. Start again.');
    }
    return claimed;
  }

  return {
    async registrationOptions(binding, user, existing, requirements = { attestation: 'none', deviceBound: false }) {
      const options = await generateRegistrationOptions({
        rpName,
        rpID: rpId,
        userName: user.userName,
        userDisplayName: user.displayName,
        userID: new TextEncoder().encode(user.id),
        attestationType: requirements.attestation,
        excludeCredentials: existing.map((passkey) => ({ id: passkey.id, transports: passkey.transports as never })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        supportedAlgorithmIDs: [-7, -257],
        timeout: CHALLENGE_TTL_MS,
      });
      // WebAuthn L3 §5.4.8 hints: a device-bound passkey is a security key or this device's own
      // authenticator (Windows Hello), never a synced provider. Only hints, not
      // authenticatorAttachment, so a platform authenticator stays possible; the server checks.
      if (requirements.deviceBound) options.hints = ['security-key', 'client-device'];
      await remember('registration', binding, options.challenge);
      return options as unknown as Record<string, unknown>;
    },

    async verifyRegistration(binding, response): Promise<RegisteredCredential> {
      const expectedChallenge = await takeChallenge('registration', binding, response);
      let result;
      try {
        result = await verifyRegistrationResponse({
          response: response as RegistrationResponseJSON,
          expectedChallenge,
          expectedOrigin: origin,
          expectedRPID: rpId,
          requireUserVerification: true,
        });
      } catch (error) {
        throw new AppError('passkey_invalid', `The passkey could not be verified: ${(error as Error).message}`, { cause: error });
      }
      if (!result.verified) throw new AppError('passkey_invalid', 'The passkey could not be verified.');
      const { credential, aaguid, credentialDeviceType, credentialBackedUp, fmt, attestationObject } = result.registrationInfo;
      return {
        ...(await attestationResultOf({ fmt, attestationObject, aaguid })),
        id: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        transports: credential.transports ?? [],
        aaguid,
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
      };
    },

    async authenticationOptions(binding, allow) {
      const options = await generateAuthenticationOptions({
        rpID: rpId,
        userVerification: 'required',
        allowCredentials: allow?.map((passkey) => ({ id: passkey.id, transports: passkey.transports as never })),
        timeout: CHALLENGE_TTL_MS,
      });
      await remember('authentication', binding, options.challenge);
      return options as unknown as Record<string, unknown>;
    },

    credentialIdOf(response) {
      const id = (response as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,1400}$/.test(id)) {
        throw new AppError('invalid_input', 'The passkey response is malformed: it carries no credential id.');
      }
      return id;
    },

    async verifyAuthentication(binding, response, passkey: PasskeyRecord): Promise<AssertionResult> {
      const expectedChallenge = await takeChallenge('authentication', binding, response);
      let result;
      try {
        result = await verifyAuthenticationResponse({
          response: response as AuthenticationResponseJSON,
          expectedChallenge,
          expectedOrigin: origin,
          expectedRPID: rpId,
          requireUserVerification: true,
          credential: {
            id: passkey.id,
            publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
            counter: passkey.counter,
            transports: passkey.transports as never,
          },
        });
      } catch (error) {
        const message = (error as Error).message;
        if (/counter/i.test(message)) {
          throw new AppError('counter_regression', 'This passkey reported a signature counter lower than before; it may have been cloned, so the sign-in was refused.', { cause: error });
        }
        throw new AppError('passkey_invalid', `The passkey response could not be verified: ${message}`, { cause: error });
      }
      if (!result.verified) throw new AppError('passkey_invalid', 'The passkey response could not be verified.');
      const info = result.authenticationInfo;
      return { credentialId: info.credentialID, newCounter: info.newCounter, userVerified: info.userVerified, deviceType: info.credentialDeviceType, backedUp: info.credentialBackedUp };
    },
  };
}
