/**
 * Registration against the imported metadata (issue 16), on both stores: once a BLOB holds a
 * statement for an AAGUID, a packed attestation for it must chain to that statement's
 * attestationRootCertificates (SimpleWebAuthn's MetadataService, loaded by
 * edges/webauthn/metadata-service.ts), so a test authenticator whose certificate the vendor CA
 * issued registers and one with a forged certificate (another CA, same AAGUID) is refused.
 * Authenticators without a statement, or without attestation, still register: whether attestation
 * is required is the policy's decision, not the verifier's.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { createMdsFixture, type MdsFixture } from '../support/mds-fixture.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { createPasskeyCeremonies } from '../../server/edges/webauthn/ceremonies.ts';
import { verifyMetadataBlob } from '../../server/edges/webauthn/metadata-blob.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';
import type { PasskeyCeremonies } from '../../server/ports/passkey-ceremonies.ts';

describe.each(STORE_KINDS)('attestation verified against the imported metadata (%s)', { timeout: 60_000 }, (kind) => {
  let mds: MdsFixture;
  let server: TestServer;
  let ceremonies: PasskeyCeremonies;

  beforeAll(async () => {
    mds = await createMdsFixture();
    server = await startTestServer({ store: kind, env: { FIDO_MDS_ROOT_CERT: mds.rootPemFile } });
    const { config, store, clock } = server.services;
    ceremonies = createPasskeyCeremonies({ oneTime: store.oneTime, clock, rpId: config.rpId, rpName: config.orgName, origin: config.origin });
    await server.services.authenticatorMetadata.import(await verifyMetadataBlob(await mds.blob({ no: 1 }), server.services.config.fidoMdsRootPem), CLI_ACTOR);
    // This process's listeners hear the publish at once; settled() waits for the reload it started.
    await server.app.metadata.settled();
    if (server.app.metadata.status().no !== 1) throw new Error('the server did not load the imported BLOB');
  });
  afterAll(async () => server?.close());

  async function register(authenticator: SoftAuthenticator) {
    const binding = `test:${randomUUID()}`;
    const options = await ceremonies.registrationOptions(binding, { id: randomUUID(), userName: 'ann@acme.test', displayName: 'Ann' }, []);
    return ceremonies.verifyRegistration(binding, authenticator.register(options));
  }

  it('accepts a packed attestation whose certificate chains to the statement root', async () => {
    const credential = await register(new SoftAuthenticator({ origin: server.url, aaguid: mds.aaguid, attestation: mds.attestation }));
    expect(credential.aaguid).toBe(mds.aaguid);
  });

  it('refuses a packed attestation for the same AAGUID from a CA the statement does not list', async () => {
    await expect(register(new SoftAuthenticator({ origin: server.url, aaguid: mds.aaguid, attestation: mds.forgedAttestation }))).rejects.toMatchObject({
      code: 'passkey_invalid',
      message: expect.stringMatching(/could not be verified: .*(chain|trust anchor)/i),
    });
  });

  it('refuses an attestation whose certificate names another AAGUID than the authenticator data', async () => {
    const other = '11111111-2222-4333-8444-555555555555';
    await expect(register(new SoftAuthenticator({ origin: server.url, aaguid: other, attestation: mds.attestation }))).rejects.toMatchObject({ code: 'passkey_invalid' });
  });

  it('still registers a passkey without attestation, or of a model without a statement', async () => {
    expect((await register(new SoftAuthenticator({ origin: server.url, aaguid: mds.aaguid }))).aaguid).toBe(mds.aaguid);
    expect((await register(new SoftAuthenticator({ origin: server.url, aaguid: 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd' }))).aaguid).toBe('fbfc3007-154e-4ecc-8c0b-6e020557d7bd');
  });
});
