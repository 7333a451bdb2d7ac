/**
 * Apple's anonymous attestation (WebAuthn L3 §8.8), on both stores. Apple publishes no FIDO
 * metadata statement: SimpleWebAuthn checks the chain against Apple's own WebAuthn root
 * (SettingsService identifier 'apple'), and the leaf must certify the credential key and this
 * registration's nonce, SHA-256(authData || clientDataHash). Here a test root stands in for
 * Apple's for the length of the file (SettingsService is process-wide: it is put back after).
 * A chain to that root counts as attested without a statement; a statement that is revoked voids it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsService } from '@simplewebauthn/server';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { SoftAuthenticator, type AttestationFormat } from '../support/soft-authenticator.ts';
import { appleAttestation } from '../support/attestation-formats.ts';
import { createCa, issue, type TestCertificate } from '../support/test-certificates.ts';
import { createMdsFixture, type MdsFixture } from '../support/mds-fixture.ts';
import { createPasskeyCeremonies } from '../../server/edges/webauthn/ceremonies.ts';
import { verifyMetadataBlob } from '../../server/edges/webauthn/metadata-blob.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import type { PasskeyCeremonies } from '../../server/ports/passkey-ceremonies.ts';

/** No FIDO statement names it (as for Apple's own AAGUIDs), unless a test imports one. */
const APPLE_TEST_AAGUID = 'a991e5a7-0a9e-4e57-9e57-a7e57a7e57a7';

describe.each(STORE_KINDS)('apple attestation against Apple\'s root (%s)', { timeout: 60_000 }, (kind) => {
  let server: TestServer;
  let ceremonies: PasskeyCeremonies;
  let appleRoots: string[];
  let appleCa: TestCertificate;
  let forgedCa: TestCertificate;

  beforeAll(async () => {
    const root = await createCa('C=US, O=Test Apple Inc., CN=Test Apple WebAuthn Root CA');
    // Apple's chains are credential certificate, then "Apple WebAuthn CA 1"; the root stays out.
    appleCa = await issue(root, 'C=US, O=Test Apple Inc., CN=Test Apple WebAuthn CA 1', [], { ca: true });
    forgedCa = await issue(await createCa('C=US, O=Not Apple, CN=Not Apple Root'), 'C=US, O=Not Apple, CN=Not Apple CA 1', [], { ca: true });
    appleRoots = SettingsService.getRootCertificates({ identifier: 'apple' });
    SettingsService.setRootCertificates({ identifier: 'apple', certificates: [root.pem] });
    server = await startTestServer({ store: kind });
    const { config, store, clock } = server.services;
    ceremonies = createPasskeyCeremonies({ oneTime: store.oneTime, clock, rpId: config.rpId, rpName: config.orgName, origin: config.origin });
  });
  afterAll(async () => {
    if (appleRoots) SettingsService.setRootCertificates({ identifier: 'apple', certificates: appleRoots });
    await server?.close();
  });

  async function register(attestation: AttestationFormat) {
    const binding = `test:${randomUUID()}`;
    const options = await ceremonies.registrationOptions(binding, { id: randomUUID(), userName: 'ann@acme.test', displayName: 'Ann' }, [], { attestation: 'direct', deviceBound: false });
    return ceremonies.verifyRegistration(binding, await new SoftAuthenticator({ origin: server.url, aaguid: APPLE_TEST_AAGUID, attestation }).register(options));
  }

  it('accepts a credential certificate that chains to Apple\'s root and binds this registration, as attested', async () => {
    expect(await register(appleAttestation(appleCa, { chain: [appleCa] }))).toMatchObject({ aaguid: APPLE_TEST_AAGUID, attestationFormat: 'apple', attested: true });
  });

  it('refuses a chain to another root', async () => {
    await expect(register(appleAttestation(forgedCa, { chain: [forgedCa] }))).rejects.toMatchObject({
      code: 'passkey_invalid',
      message: expect.stringMatching(/could not be verified: .*trust anchor/i),
    });
  });

  it('refuses a certificate whose nonce is not this registration\'s (a replayed certificate)', async () => {
    await expect(register(appleAttestation(appleCa, { chain: [appleCa], nonce: randomBytes(32) }))).rejects.toMatchObject({
      code: 'passkey_invalid',
      message: expect.stringMatching(/nonce was not expected value/i),
    });
  });

  describe('with a statement for the AAGUID in the imported metadata', () => {
    let mds: MdsFixture;
    beforeAll(async () => {
      mds = await createMdsFixture({ aaguid: APPLE_TEST_AAGUID, description: 'Revoked Apple-attested model' });
      const revoked = await mds.blob({ no: 1, statusReports: [{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2024-01-01' }, { status: 'REVOKED', effectiveDate: '2025-01-01' }] });
      await server.services.authenticatorMetadata.import(await verifyMetadataBlob(revoked, mds.root.pem), CLI_ACTOR);
      await server.app.metadata.settled();
    });

    it('no longer counts it as attested once the statement is revoked', async () => {
      expect(await register(appleAttestation(appleCa, { chain: [appleCa] }))).toMatchObject({ attestationFormat: 'apple', attested: false });
    });
  });
});
