/**
 * What a registration's attestation proves, decided in one place (the metadata side of issue 16
 * adjusts it here at merge). Rules:
 * - `attestationFormat` is the statement's fmt (WebAuthn L3 §8), 'none' when nothing was attested;
 * - `attested` is true only for a certificate chain (x5c: packed full attestation, tpm,
 *   android-key, apple, fido-u2f) whose AAGUID has a metadata statement in SimpleWebAuthn's
 *   MetadataService that metadata-service.ts still trusts (no REVOKED or compromise status): verifyRegistrationResponse has then already checked the chain up to that
 *   statement's attestationRootCertificates (FIDO MDS3 §3.1.8) and refused the registration
 *   otherwise. Self attestation (packed without x5c) and 'none' prove nothing about the model.
 * - The metadata helper loads the imported MDS BLOB's statements into MetadataService in every
 *   instance; when the policy requires attestation, a statement-less AAGUID simply comes out
 *   unattested here and the policy refuses it (no need for MetadataService's strict mode).
 */
import { MetadataService } from '@simplewebauthn/server';
import { decodeAttestationObject } from '@simplewebauthn/server/helpers';
import { isTrustedForAttestation } from './metadata-service.ts';

export interface AttestationResult {
  attestationFormat: string;
  attested: boolean;
}

export async function attestationResultOf(input: { fmt: string; attestationObject: Uint8Array; aaguid: string }): Promise<AttestationResult> {
  const attestationFormat = input.fmt || 'none';
  if (attestationFormat === 'none') return { attestationFormat, attested: false };
  const statement = decodeAttestationObject(new Uint8Array(input.attestationObject)).get('attStmt');
  const chain = statement.get('x5c');
  if (!Array.isArray(chain) || chain.length === 0) return { attestationFormat, attested: false };
  // Not strict here: an unknown AAGUID is an unattested passkey, which the policy judges. A
  // statement whose latest status is REVOKED or a compromise does not vouch for anything.
  const found = await MetadataService.getStatement(input.aaguid).catch(() => undefined);
  return { attestationFormat, attested: Boolean(found) && isTrustedForAttestation(input.aaguid) };
}
