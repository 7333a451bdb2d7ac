/**
 * A sign-in assertion by an ES256 passkey (COSE alg -7 on P-256: what platform and synced passkeys
 * use), verified check for check as @simplewebauthn/server's verifyAuthenticationResponse does
 * (WebAuthn L3 §7.2), with its parsers and its error messages, but on node:crypto: SHA-256 in
 * process instead of async WebCrypto jobs, the DER signature verified as it comes (no ASN.1
 * unwrapping), and the public key imported once per credential instead of on every sign-in (its
 * profile: ~0.85 ms of CPU per assertion, about an eighth of a bare provider's whole login).
 * Any other key type or algorithm goes to the library itself (`supportsFastAssertion`).
 * test/server/es256-assertion.test.ts holds both to the same answers, accepted or refused.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { cose, decodeClientDataJSON, decodeCredentialPublicKey, isoBase64URL, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import type { AuthenticationResponseJSON, VerifiedAuthenticationResponse } from '@simplewebauthn/server';

type CoseKey = ReturnType<typeof decodeCredentialPublicKey>;

/** Imported keys by stored public key (base64url COSE); public data, bounded like any cache here. */
const keys = new Map<string, KeyObject | null>();
const MAX_KEYS = 10_000;

/** The P-256 key of an ES256 COSE key, or null for anything else (the library verifies those). */
function es256Key(publicKey: string): KeyObject | null {
  let key = keys.get(publicKey);
  if (key !== undefined) return key;
  key = null;
  try {
    const cosePublicKey: CoseKey = decodeCredentialPublicKey(Buffer.from(publicKey, 'base64url'));
    if (!cose.isCOSEPublicKeyEC2(cosePublicKey)) return remember(publicKey, null);
    const x = cosePublicKey.get(cose.COSEKEYS.x);
    const y = cosePublicKey.get(cose.COSEKEYS.y);
    if (
      cosePublicKey.get(cose.COSEKEYS.kty) === cose.COSEKTY.EC2 &&
      cosePublicKey.get(cose.COSEKEYS.alg) === cose.COSEALG.ES256 &&
      cosePublicKey.get(cose.COSEKEYS.crv) === cose.COSECRV.P256 &&
      x instanceof Uint8Array &&
      y instanceof Uint8Array
    ) {
      key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: isoBase64URL.fromBuffer(x), y: isoBase64URL.fromBuffer(y) }, format: 'jwk' });
    }
  } catch {
    key = null;
  }
  return remember(publicKey, key);
}

function remember(publicKey: string, key: KeyObject | null): KeyObject | null {
  if (keys.size >= MAX_KEYS) keys.clear();
  keys.set(publicKey, key);
  return key;
}

/** True when this stored public key (base64url COSE) is one verifyEs256Assertion handles. */
export function supportsFastAssertion(publicKey: string): boolean {
  return es256Key(publicKey) !== null;
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/**
 * The same inputs and answer as verifyAuthenticationResponse for what this service asks of it:
 * one expected challenge, origin and RP ID, no top origin, user verification as given.
 */
export function verifyEs256Assertion(options: {
  response: AuthenticationResponseJSON;
  expectedChallenge: string;
  expectedOrigin: string;
  expectedRPID: string;
  requireUserVerification: boolean;
  credential: { id: string; publicKey: string; counter: number };
}): VerifiedAuthenticationResponse {
  const { response, expectedChallenge, expectedOrigin, expectedRPID, requireUserVerification, credential } = options;
  const key = es256Key(credential.publicKey);
  if (!key) throw new Error('Not an ES256 credential public key');
  const { id, rawId, type: credentialType, response: assertionResponse } = response;
  if (!id) throw new Error('Missing credential ID');
  if (id !== rawId) throw new Error('Credential ID was not base64url-encoded');
  if (credentialType !== 'public-key') throw new Error(`Unexpected credential type ${credentialType}, expected "public-key"`);
  if (typeof assertionResponse?.clientDataJSON !== 'string') throw new Error('Credential response clientDataJSON was not a string');

  const clientData = decodeClientDataJSON(assertionResponse.clientDataJSON);
  const { type, origin, challenge, tokenBinding, crossOrigin, topOrigin } = clientData;
  if (type !== 'webauthn.get') throw new Error(`Unexpected authentication response type: ${type}`);
  if (challenge !== expectedChallenge) throw new Error(`Unexpected authentication response challenge "${challenge}", expected "${expectedChallenge}"`);
  // No expected top origin is configured: a cross-origin response naming one is refused, as the library does.
  if (crossOrigin && topOrigin) {
    throw new Error(`Detected cross-origin authentication response from top origin of "${topOrigin}", but a value for \`expectedTopOrigin\` was not specified when calling \`verifyAuthenticationResponse()\``);
  }
  if (!crossOrigin && topOrigin) {
    throw new Error(`Unexpected top origin of "${topOrigin}" within a non-cross-origin authentication response. This error should be reported to the browser vendor as a WebAuthn specification violation with a link to https://w3c.github.io/webauthn/#dom-collectedclientdata-toporigin`);
  }
  if (origin !== expectedOrigin) throw new Error(`Unexpected authentication response origin "${origin}", expected "${expectedOrigin}"`);
  if (!isoBase64URL.isBase64URL(assertionResponse.authenticatorData)) throw new Error('Credential response authenticatorData was not a base64url string');
  if (!isoBase64URL.isBase64URL(assertionResponse.signature)) throw new Error('Credential response signature was not a base64url string');
  if (assertionResponse.userHandle && typeof assertionResponse.userHandle !== 'string') throw new Error('Credential response userHandle was not a string');
  if (tokenBinding) {
    if (typeof tokenBinding !== 'object') throw new Error('ClientDataJSON tokenBinding was not an object');
    if (!['present', 'supported', 'notSupported'].includes(tokenBinding.status)) throw new Error(`Unexpected tokenBinding status ${tokenBinding.status}`);
  }

  const authData = isoBase64URL.toBuffer(assertionResponse.authenticatorData);
  const { rpIdHash, flags, counter, extensionsData } = parseAuthenticatorData(authData);
  if (!Buffer.from(rpIdHash).equals(sha256(expectedRPID))) throw new Error('Unexpected RP ID hash');
  if (!flags.up) throw new Error('User not present during authentication');
  if (requireUserVerification && !flags.uv) throw new Error('User verification required, but user could not be verified');
  if ((counter > 0 || credential.counter > 0) && counter <= credential.counter) {
    throw new Error(`Response counter value ${counter} was lower than expected ${credential.counter}`);
  }
  const credentialDeviceType = flags.be ? 'multiDevice' : 'singleDevice';
  if (credentialDeviceType === 'singleDevice' && flags.bs) throw new Error('Single-device credential indicated that it was backed up, which should be impossible.');

  // WebAuthn L3 §7.2 steps 20-21: the signature over authenticatorData || SHA-256(clientDataJSON), DER-encoded ECDSA.
  const signed = Buffer.concat([authData, sha256(isoBase64URL.toBuffer(assertionResponse.clientDataJSON))]);
  let verified: boolean;
  try {
    verified = verify('sha256', signed, key, isoBase64URL.toBuffer(assertionResponse.signature));
  } catch {
    // Not a DER signature at all: the library's ASN.1 parse fails too, and nothing is verified.
    verified = false;
  }
  return {
    verified,
    authenticationInfo: {
      newCounter: counter,
      credentialID: credential.id,
      userVerified: flags.uv,
      credentialDeviceType,
      credentialBackedUp: flags.bs,
      authenticatorExtensionResults: extensionsData,
      origin: clientData.origin,
      rpID: expectedRPID,
    },
  };
}
