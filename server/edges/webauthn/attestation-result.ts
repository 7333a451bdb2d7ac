/**
 * What a registration's attestation proves, decided in one place. verifyRegistrationResponse has
 * already refused any attestation whose signature, certificate rules or chain failed; what it
 * checked the chain against depends on the format (WebAuthn L3 §8), and so does `attested`:
 * - packed (full, with x5c), tpm, android-key: when the AAGUID has a statement in
 *   SimpleWebAuthn's MetadataService (the imported BLOB, metadata-service.ts), the chain had to
 *   lead to its attestationRootCertificates (FIDO MDS3 §3.1.8). Attested when that statement exists
 *   and its status does not void it (isTrustedForAttestation). Without a statement nothing names
 *   the model: packed and tpm chains were checked against no root at all, android-key against
 *   Google's hardware attestation roots; unattested.
 * - apple: the chain had to lead to Apple's WebAuthn root (SettingsService 'apple', bundled with
 *   SimpleWebAuthn) and the certificate to hold this credential's key and nonce. Apple publishes
 *   no MDS statement, so attested unless an imported statement for the AAGUID voids it.
 * - fido-u2f: its chain is checked against SettingsService's 'fido-u2f' roots, which are empty,
 *   never against a statement (its AAGUID is all zeros); android-safetynet is deprecated and carries
 *   no x5c. Unattested, whatever the metadata says.
 * - packed self attestation (no x5c) and 'none' prove nothing about the model: unattested.
 * `attestationFormat` is the statement's fmt, 'none' when nothing was attested. When the policy
 * requires attestation, an unattested passkey is refused there (no need for MetadataService's
 * strict mode).
 */
import { MetadataService } from '@simplewebauthn/server';
import { decodeAttestationObject } from '@simplewebauthn/server/helpers';
import { attestationDistrust } from '../../domain/authenticator-catalogue.ts';
import { isTrustedForAttestation } from './metadata-service.ts';

export interface AttestationResult {
  attestationFormat: string;
  attested: boolean;
}

/** Formats whose x5c SimpleWebAuthn checks against the AAGUID's metadata statement. */
const CHECKED_AGAINST_STATEMENT = new Set(['packed', 'tpm', 'android-key']);

export async function attestationResultOf(input: { fmt: string; attestationObject: Uint8Array; aaguid: string }): Promise<AttestationResult> {
  const attestationFormat = input.fmt || 'none';
  if (attestationFormat === 'none') return { attestationFormat, attested: false };
  const chain = decodeAttestationObject(new Uint8Array(input.attestationObject)).get('attStmt').get('x5c');
  if (!Array.isArray(chain) || chain.length === 0) return { attestationFormat, attested: false };
  if (attestationFormat === 'apple') {
    // Apple's root vouched for it; only a statement whose status voids the AAGUID takes that back.
    const distrust = attestationDistrust(input.aaguid);
    return { attestationFormat, attested: distrust === null || distrust === 'no_statement' };
  }
  if (!CHECKED_AGAINST_STATEMENT.has(attestationFormat)) return { attestationFormat, attested: false };
  // Not strict here: an unknown AAGUID is an unattested passkey, which the policy judges. A
  // statement whose latest status is REVOKED or a compromise does not vouch for anything.
  const found = await MetadataService.getStatement(input.aaguid).catch(() => undefined);
  return { attestationFormat, attested: Boolean(found) && isTrustedForAttestation(input.aaguid) };
}
