/**
 * The authenticator model name for an AAGUID (domain/authenticator-catalogue.ts decides, from the
 * imported FIDO metadata and the community list), used as the default passkey name at enrollment.
 * Unknown or all-zero AAGUIDs (attestation "none" often zeroes it) fall back to a description.
 */
import { describeAuthenticator } from './authenticator-catalogue.ts';

export function authenticatorModel(aaguid: string): string | null {
  return describeAuthenticator(aaguid)?.name ?? null;
}

export function defaultPasskeyName(aaguid: string, deviceType: 'singleDevice' | 'multiDevice'): string {
  return authenticatorModel(aaguid) ?? (deviceType === 'multiDevice' ? 'Synced passkey' : 'Security key or device passkey');
}
