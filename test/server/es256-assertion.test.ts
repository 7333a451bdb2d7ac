/**
 * The ES256 assertion check (server/edges/webauthn/es256-assertion.ts) against the library it
 * stands in for: for each assertion, valid or altered one way, both accept or both refuse, with the
 * same authenticationInfo or the same error message.
 */
import { describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from '@simplewebauthn/server';
import { cborEncode } from '../support/soft-authenticator.ts';
import { supportsFastAssertion, verifyEs256Assertion } from '../../server/edges/webauthn/es256-assertion.ts';

const ORIGIN = 'https://login.example.com';
const RP_ID = 'login.example.com';
const CHALLENGE = Buffer.from('a challenge of thirty-two bytes!').toString('base64url');
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

function credential(curve = 'P-256', alg = -7) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const jwk = publicKey.export({ format: 'jwk' });
  const crv = { 'P-256': 1, 'P-384': 2 }[curve]!;
  const cose = cborEncode(new Map<number, never>([[1, 2 as never], [3, alg as never], [-1, crv as never], [-2, Buffer.from(jwk.x!, 'base64url') as never], [-3, Buffer.from(jwk.y!, 'base64url') as never]]));
  return { privateKey, publicKey: cose.toString('base64url'), id: 'Y3JlZGVudGlhbC1pZA' };
}

interface Variant {
  clientData?: Record<string, unknown>;
  rpId?: string;
  flags?: number;
  counter?: number;
  rawId?: string;
  type?: string;
  signature?: (signature: Buffer) => Buffer;
  signedBy?: ReturnType<typeof credential>;
  authenticatorData?: string;
}

function assertion(cred: ReturnType<typeof credential>, variant: Variant = {}): AuthenticationResponseJSON {
  const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: CHALLENGE, origin: ORIGIN, crossOrigin: false, ...variant.clientData }));
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(variant.counter ?? 0);
  const authData = Buffer.concat([sha256(variant.rpId ?? RP_ID), Buffer.from([variant.flags ?? 0x1d]), counter]);
  const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), (variant.signedBy ?? cred).privateKey);
  return {
    id: cred.id,
    rawId: variant.rawId ?? cred.id,
    type: (variant.type ?? 'public-key') as 'public-key',
    response: {
      clientDataJSON: clientDataJSON.toString('base64url'),
      authenticatorData: variant.authenticatorData ?? authData.toString('base64url'),
      signature: (variant.signature ? variant.signature(signature) : signature).toString('base64url'),
      userHandle: 'dXNlcg',
    },
    clientExtensionResults: {},
  };
}

async function outcome<T>(verify: () => Promise<T> | T) {
  try {
    const result = (await verify()) as { verified: boolean; authenticationInfo: unknown };
    return result.verified ? { accepted: true, info: result.authenticationInfo } : { accepted: false };
  } catch (error) {
    return { accepted: false, error: (error as Error).message };
  }
}

async function both(cred: ReturnType<typeof credential>, response: AuthenticationResponseJSON, storedCounter = 0) {
  const common = { response, expectedChallenge: CHALLENGE, expectedOrigin: ORIGIN, expectedRPID: RP_ID, requireUserVerification: true };
  const library = await outcome(() => verifyAuthenticationResponse({ ...common, credential: { id: cred.id, publicKey: new Uint8Array(Buffer.from(cred.publicKey, 'base64url')), counter: storedCounter } }));
  const ours = await outcome(() => verifyEs256Assertion({ ...common, credential: { id: cred.id, publicKey: cred.publicKey, counter: storedCounter } }));
  return { library, ours };
}

describe('ES256 assertions on node:crypto answer as @simplewebauthn/server does', () => {
  const cred = credential();

  it('handles ES256 on P-256 only; other keys stay with the library', () => {
    expect(supportsFastAssertion(cred.publicKey)).toBe(true);
    expect(supportsFastAssertion(credential('P-384', -35).publicKey)).toBe(false);
    expect(supportsFastAssertion(Buffer.from('not cbor').toString('base64url'))).toBe(false);
  });

  const variants: [string, Variant, number?][] = [
    ['a valid assertion (synced: BE and BS)', {}],
    ['a valid device-bound assertion with a counter that grew', { flags: 0x05, counter: 8 }, 7],
    ['a counter that did not grow', { flags: 0x05, counter: 7 }, 7],
    ['a counter of 0 after a stored one', { flags: 0x05, counter: 0 }, 7],
    ['another challenge', { clientData: { challenge: 'b3RoZXItY2hhbGxlbmdl' } }],
    ['another origin', { clientData: { origin: 'https://evil.example.com' } }],
    ['a registration response', { clientData: { type: 'webauthn.create' } }],
    ['a cross-origin response with a top origin', { clientData: { crossOrigin: true, topOrigin: 'https://frame.example.com' } }],
    ['a top origin without crossOrigin', { clientData: { topOrigin: 'https://frame.example.com' } }],
    ['a valid cross-origin response without a top origin (as the library allows)', { clientData: { crossOrigin: true } }],
    ['a bad token binding status', { clientData: { tokenBinding: { status: 'weird' } } }],
    ['a valid token binding', { clientData: { tokenBinding: { status: 'supported' } } }],
    ['another RP ID', { rpId: 'evil.example.com' }],
    ['no user presence', { flags: 0x1c }],
    ['no user verification', { flags: 0x19 }],
    ['backed up but not backup eligible', { flags: 0x15 }],
    ['a rawId that differs from id', { rawId: 'b3RoZXI' }],
    ['another credential type', { type: 'password' }],
    ['a signature by another key', { signedBy: credential() }],
    ['a flipped signature byte', { signature: (sig) => Buffer.concat([sig.subarray(0, 10), Buffer.from([sig[10] ^ 1]), sig.subarray(11)]) }],
    ['authenticatorData that is not base64url', { authenticatorData: 'not base64url!' }],
  ];

  for (const [name, variant, storedCounter] of variants) {
    it(`${name}: the same answer`, async () => {
      const { library, ours } = await both(cred, assertion(cred, variant), storedCounter ?? 0);
      expect(ours).toEqual(library);
      // The valid ones are accepted: agreement is not both refusing for one shared reason.
      expect(library.accepted).toBe(name.startsWith('a valid'));
    });
  }

  it('a signature that is not DER at all: both refuse', async () => {
    const { library, ours } = await both(cred, assertion(cred, { signature: () => Buffer.from('garbage') }));
    expect(library.accepted).toBe(false);
    expect(ours.accepted).toBe(false);
  });

  it('accepts a valid assertion and reports what the sign-in records', async () => {
    const { ours } = await both(cred, assertion(cred, { flags: 0x05, counter: 3 }));
    expect(ours).toEqual({ accepted: true, info: expect.objectContaining({ newCounter: 3, userVerified: true, credentialDeviceType: 'singleDevice', credentialBackedUp: false, credentialID: cred.id, origin: ORIGIN, rpID: RP_ID }) });
  });
});
