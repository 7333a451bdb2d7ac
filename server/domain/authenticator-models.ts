/**
 * Friendly names for well-known passkey providers, by AAGUID, used as the default passkey name
 * at enrollment. Unknown or all-zero AAGUIDs (attestation "none" often zeroes it) fall back.
 */
const knownModels: Record<string, string> = {
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': 'iCloud Keychain',
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager',
  'adce0002-35bc-c60a-648b-0b25f1f05503': 'Chrome on Mac',
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  '9ddd1817-af5a-4672-a2b9-3e3dd95000a9': 'Windows Hello',
  '6028b017-b1d4-4c02-b4b3-afcdafc96bb2': 'Windows Hello',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  '531126d6-e717-415c-9320-3d9aa6981239': 'Dashlane',
  '53414d53-554e-4700-0000-000000000000': 'Samsung Pass',
  'cb69481e-8ff7-4039-93ec-0a2729a154a8': 'YubiKey 5 Series',
  'ee882879-721c-4913-9775-3dfcce97072a': 'YubiKey 5 Series',
  'fa2b99dc-9e39-4257-8f92-4a30d23c4118': 'YubiKey 5 Series with NFC',
};

export function authenticatorModel(aaguid: string): string | null {
  return knownModels[aaguid.toLowerCase()] ?? null;
}

export function defaultPasskeyName(aaguid: string, deviceType: 'singleDevice' | 'multiDevice'): string {
  return authenticatorModel(aaguid) ?? (deviceType === 'multiDevice' ? 'Synced passkey' : 'Security key or device passkey');
}
