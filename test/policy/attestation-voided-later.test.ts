/**
 * What ends an attestation's worth (issue 16, on both stores): a passkey attested at enrollment
 * stops counting as attested once a BLOB imported later reports its model REVOKED. Under a policy
 * that requires attestation, its next sign-in is refused, the console's passkeys view says
 * "not attested", and `latchkey policy affected` (its own process) lists the person. The stored
 * record keeps what registration proved; only the judgement changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { createMdsFixture, type MdsFixture } from '../support/mds-fixture.ts';
import { createPerson, enrollPerson, TEST_ACTOR } from '../support/builders.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { cliFor } from '../support/cli.ts';
import { verifyMetadataBlob } from '../../server/edges/webauthn/metadata-blob.ts';
import { describePasskey } from '../../server/edges/admin/views.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

describe.each(STORE_KINDS)('an attested passkey whose model FIDO revokes later (%s)', { timeout: 60_000 }, (kind) => {
  let mds: MdsFixture;
  let server: TestServer;

  beforeAll(async () => {
    mds = await createMdsFixture();
    server = await startTestServer({ store: kind, env: { FIDO_MDS_ROOT_CERT: mds.rootPemFile } });
  });
  afterAll(async () => server?.close());

  async function importBlob(blob: string) {
    await server.services.authenticatorMetadata.import(await verifyMetadataBlob(blob, server.services.config.fidoMdsRootPem), CLI_ACTOR);
    await server.app.metadata.settled();
  }

  it('is refused at its next sign-in, shown as not attested, and listed by policy affected', async () => {
    await importBlob(await mds.blob({ no: 1 }));
    await server.services.policies.set({ requireAttestation: true }, TEST_ACTOR);
    const person = await createPerson(server, 'ada@example.com');
    const authenticator = new SoftAuthenticator({ origin: server.url, aaguid: mds.aaguid, attestation: mds.attestation });
    const { passkeyId } = await enrollPerson(server, person, { authenticator });
    const passkey = (await server.services.passkeys.listFor(person.id)).find((candidate) => candidate.id === passkeyId)!;
    expect(passkey).toMatchObject({ attestationFormat: 'packed', attested: true });
    await server.services.policies.assertMaySignIn(passkey);
    expect(describePasskey(passkey).attested).toBe(true);

    await importBlob(await mds.blob({ no: 2, statusReports: [{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2024-01-01' }, { status: 'REVOKED', effectiveDate: '2026-11-30' }] }));

    await expect(server.services.policies.assertMaySignIn(passkey)).rejects.toMatchObject({ code: 'passkey_not_allowed', reasons: ['attestation_required'] });
    expect(describePasskey(passkey).attested).toBe(false);
    // What registration proved stays on record.
    expect((await server.services.passkeys.listFor(person.id)).find((candidate) => candidate.id === passkeyId)).toMatchObject({ attested: true });
    const affected = await cliFor(server.env).json('policy', 'affected');
    expect(affected).toMatchObject({ totals: { people: 1, passkeys: 1, locked_out: 1 }, people: [{ username: 'ada@example.com', passkeys: [{ id: passkeyId, attested: false, reasons: ['attestation_required'] }] }] });
  });
});
