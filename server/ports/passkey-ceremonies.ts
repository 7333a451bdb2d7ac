/**
 * WebAuthn ceremonies as the edges need them (enrollment registers, sign-in authenticates).
 * Implemented in edges/webauthn on @simplewebauthn/server, the only place that library is used.
 * `binding` ties a challenge to one interaction or enrollment link: a challenge issued for one
 * can never be answered for another, and each is consumed on first use.
 */
import type { PasskeyRecord } from './storage.ts';

export type CeremonyJson = Record<string, unknown>;

export interface RegisteredCredential {
  id: string;
  publicKey: string;
  counter: number;
  transports: string[];
  aaguid: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  /** The attestation statement format (WebAuthn L3 §8), 'none' when none was given. */
  attestationFormat: string;
  /** The attestation chain was verified against its statement's roots (packed, tpm, android-key) or Apple's root (apple). */
  attested: boolean;
}

/** What the authenticator policy asks of the browser; the server still checks what comes back. */
export interface RegistrationRequirements {
  /** 'direct' asks the authenticator for its attestation statement (WebAuthn L3 §5.4.7). */
  attestation: 'none' | 'direct';
  /** Only a passkey that stays on one device is accepted: steer the browser to one. */
  deviceBound: boolean;
}

export interface AssertionResult {
  credentialId: string;
  newCounter: number;
  userVerified: boolean;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
}

export interface PasskeyCeremonies {
  registrationOptions(binding: string, user: { id: string; userName: string; displayName: string }, existing: PasskeyRecord[], requirements?: RegistrationRequirements): Promise<CeremonyJson>;
  verifyRegistration(binding: string, response: unknown): Promise<RegisteredCredential>;
  authenticationOptions(binding: string, allow: PasskeyRecord[] | null): Promise<CeremonyJson>;
  /** The credential id the browser claims to have used, read before verification. */
  credentialIdOf(response: unknown): string;
  verifyAuthentication(binding: string, response: unknown, passkey: PasskeyRecord): Promise<AssertionResult>;
}
