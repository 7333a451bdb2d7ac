/**
 * Registration against the imported metadata (issue 16), on both stores: once a BLOB holds a
 * statement for an AAGUID, a packed, tpm or android-key attestation for it must chain to that
 * statement's attestationRootCertificates (SimpleWebAuthn's MetadataService, loaded by
 * edges/webauthn/metadata-service.ts), so a test authenticator whose certificate the vendor CA
 * issued registers as attested and one with a forged certificate (another CA, same AAGUID) is
 * refused; so is one breaking a format's own rule (android-key's challenge, TPM's AAGUID).
 * Authenticators without a statement, or without attestation, still register, unattested: whether
 * attestation is required is the policy's decision, not the verifier's.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { createMdsFixture, type MdsFixture } from '../support/mds-fixture.ts';
import { SoftAuthenticator, type AttestationFormat } from '../support/soft-authenticator.ts';
import { androidKeyAttestation, fidoU2fAttestation, tpmAttestation } from '../support/attestation-formats.ts';
import { issue } from '../support/test-certificates.ts';
import { createPasskeyCeremonies } from '../../server/edges/webauthn/ceremonies.ts';
import { verifyMetadataBlob } from '../../server/edges/webauthn/metadata-blob.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import type { PasskeyCeremonies } from '../../server/ports/passkey-ceremonies.ts';

const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';

describe.each(STORE_KINDS)('attestation verified against the imported metadata (%s)', { timeout: 60_000 }, (kind) => {
  let mds: MdsFixture;
  let server: TestServer;
  let ceremonies: PasskeyCeremonies;

  beforeAll(async () => {
    mds = await createMdsFixture();
    server = await startTestServer({ store: kind, env: { FIDO_MDS_ROOT_CERT: mds.rootPemFile } });
    const { config, store, clock } = server.services;
    ceremonies = createPasskeyCeremonies({ oneTime: store.oneTime, clock, rpId: config.rpId, rpName: config.orgName, origin: config.origin });
    // Besides the fixture's model, a statement for the all-zero AAGUID that U2F authenticators
    // carry: FIDO lists none, but a statement must not make a fido-u2f chain count as attested.
    const withZeroAaguid = (payload: Record<string, unknown>) => {
      const entries = payload.entries as { aaguid?: string; metadataStatement?: Record<string, unknown> }[];
      const zero = { ...entries[0], aaguid: ZERO_AAGUID, metadataStatement: { ...entries[0].metadataStatement, aaguid: ZERO_AAGUID, description: 'Zero AAGUID' } };
      return { ...payload, entries: [...entries, zero] };
    };
    await server.services.authenticatorMetadata.import(await verifyMetadataBlob(await mds.blob({ no: 1, payload: withZeroAaguid }), server.services.config.fidoMdsRootPem), CLI_ACTOR);
    // This process's listeners hear the publish at once; settled() waits for the reload it started.
    await server.app.metadata.settled();
    if (server.app.metadata.status().no !== 1) throw new Error('the server did not load the imported BLOB');
  });
  afterAll(async () => server?.close());

  async function register(authenticator: SoftAuthenticator) {
    const binding = `test:${randomUUID()}`;
    const options = await ceremonies.registrationOptions(binding, { id: randomUUID(), userName: 'ann@acme.test', displayName: 'Ann' }, [], { attestation: 'direct', deviceBound: false });
    return ceremonies.verifyRegistration(binding, await authenticator.register(options));
  }
  const authenticator = (attestation: AttestationFormat, aaguid = mds.aaguid) => new SoftAuthenticator({ origin: server.url, aaguid, attestation });
  const refusedChain = { code: 'passkey_invalid', message: expect.stringMatching(/could not be verified: .*(chain|trust anchor)/i) };

  it('accepts a packed attestation whose certificate chains to the statement root', async () => {
    const credential = await register(authenticator(mds.attestation));
    expect(credential).toMatchObject({ aaguid: mds.aaguid, attestationFormat: 'packed', attested: true });
  });

  it('refuses a packed attestation for the same AAGUID from a CA the statement does not list', async () => {
    await expect(register(authenticator(mds.forgedAttestation))).rejects.toMatchObject(refusedChain);
  });

  it('refuses an attestation whose certificate names another AAGUID than the authenticator data', async () => {
    const other = '11111111-2222-4333-8444-555555555555';
    await expect(register(authenticator(mds.attestation, other))).rejects.toMatchObject({ code: 'passkey_invalid' });
  });

  describe('android-key', () => {
    it('accepts a Keystore certificate for the credential key that chains to the statement root, as attested', async () => {
      // Android's chains carry intermediates: leaf, then the vendor's intermediate; the root stays out.
      const intermediate = await issue(mds.attestationCa, 'C=SE, O=Test Vendor, CN=Test Vendor Keystore Intermediate', [], { ca: true });
      const credential = await register(authenticator(androidKeyAttestation(intermediate, { chain: [intermediate] })));
      expect(credential).toMatchObject({ aaguid: mds.aaguid, attestationFormat: 'android-key', attested: true });
    });

    it('refuses one issued by a CA the statement does not list', async () => {
      await expect(register(authenticator(androidKeyAttestation(mds.forgedCa)))).rejects.toMatchObject(refusedChain);
    });

    it('refuses one whose attestationChallenge is not this registration\'s client data hash (a replayed certificate)', async () => {
      await expect(register(authenticator(androidKeyAttestation(mds.attestationCa, { challenge: randomBytes(32) })))).rejects.toMatchObject({
        code: 'passkey_invalid',
        message: expect.stringMatching(/challenge was not equal to client data hash/i),
      });
    });

    it('refuses a key the Keystore lets every application use (allApplications)', async () => {
      await expect(register(authenticator(androidKeyAttestation(mds.attestationCa, { allApplications: true })))).rejects.toMatchObject({
        code: 'passkey_invalid',
        message: expect.stringMatching(/allApplications/),
      });
    });
  });

  describe('tpm', () => {
    it('accepts certInfo signed by an AIK whose certificate chains to the statement root, as attested', async () => {
      const credential = await register(authenticator(tpmAttestation(mds.attestationCa, mds.aaguid)));
      expect(credential).toMatchObject({ aaguid: mds.aaguid, attestationFormat: 'tpm', attested: true });
    });

    it('refuses an AIK certificate issued by a CA the statement does not list', async () => {
      await expect(register(authenticator(tpmAttestation(mds.forgedCa, mds.aaguid)))).rejects.toMatchObject(refusedChain);
    });

    it('refuses an AIK certificate naming another AAGUID than the authenticator data', async () => {
      const other = '11111111-2222-4333-8444-555555555555';
      await expect(register(authenticator(tpmAttestation(mds.attestationCa, mds.aaguid, { certificateAaguid: other })))).rejects.toMatchObject({
        code: 'passkey_invalid',
        message: expect.stringMatching(/id-fido-gen-ce-aaguid/),
      });
    });

    it('registers a model without a statement, unattested: nothing here vouches for its AIK', async () => {
      // SimpleWebAuthn has no TPM roots of its own, so without a statement it checks no chain at
      // all; only a statement makes a TPM attestation mean something.
      const unknown = 'a7d6d93a-2e3e-4f1a-9c3b-6d1e0f6b2c11';
      const credential = await register(authenticator(tpmAttestation(mds.forgedCa, unknown), unknown));
      expect(credential).toMatchObject({ aaguid: unknown, attestationFormat: 'tpm', attested: false });
    });
  });

  it('registers a fido-u2f attestation unattested even when a statement names its AAGUID: its chain is checked against no root', async () => {
    // SimpleWebAuthn checks fido-u2f against SettingsService's 'fido-u2f' roots (none), never a statement.
    const credential = await register(authenticator(fidoU2fAttestation(mds.forgedCa), ZERO_AAGUID));
    expect(credential).toMatchObject({ aaguid: ZERO_AAGUID, attestationFormat: 'fido-u2f', attested: false });
  });

  it('still registers a passkey without attestation, or of a model without a statement', async () => {
    expect(await register(new SoftAuthenticator({ origin: server.url, aaguid: mds.aaguid }))).toMatchObject({ aaguid: mds.aaguid, attestationFormat: 'none', attested: false });
    expect((await register(new SoftAuthenticator({ origin: server.url, aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd' }))).aaguid).toBe('fbfc3007-154e-4ecc-8c0b-6e020557d7bd');
  });
});
