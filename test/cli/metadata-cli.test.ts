/**
 * `latchkey metadata import|show` on both stores, with a BLOB made at test time (mds-fixture.ts):
 * a BLOB chained to the configured root and correctly signed is imported and reaches the running
 * server (its MetadataService, catalogue and /readyz) without a restart; a tampered signature, a
 * chain to another root, a rollback and a file that is no BLOB are refused with one line and a
 * non-zero exit, and leave the stored BLOB as it was. A stale BLOB is accepted with a warning.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, STORE_KINDS, type TestServer } from '../support/test-server.ts';
import { cliFor, type Cli } from '../support/cli.ts';
import { createMdsFixture, type MdsFixture } from '../support/mds-fixture.ts';
import { createCa, issue } from '../support/test-certificates.ts';
import { describeAuthenticator } from '../../server/domain/authenticator-catalogue.ts';
import { isTrustedForAttestation } from '../../server/edges/webauthn/metadata-service.ts';
import { verifyMetadataBlob } from '../../server/edges/webauthn/metadata-blob.ts';
import { CLI_ACTOR } from '../../server/domain/actor.ts';

describe.each(STORE_KINDS)('latchkey metadata (%s)', { timeout: 120_000 }, (kind) => {
  let mds: MdsFixture;
  let server: TestServer;
  let cli: Cli;

  beforeAll(async () => {
    mds = await createMdsFixture();
    server = await startTestServer({ store: kind, env: { FIDO_MDS_ROOT_CERT: mds.rootPemFile } });
    cli = cliFor(server.env);
  });
  afterAll(async () => server?.close());

  /** The server hears the CLI's change through the store (at most CHANGE_DELIVERY_MS on SQLite). */
  async function serverSees(no: number): Promise<void> {
    await expect.poll(() => server.app.metadata.status().no, { timeout: 5_000, interval: 50 }).toBe(no);
  }

  it('shows that nothing is imported yet', async () => {
    expect(await cli.json('metadata', 'show')).toMatchObject({ statements: 0, no: null });
  });

  it('imports a verified BLOB, and the running server uses it at once', async () => {
    const imported = await cli.json('metadata', 'import', await mds.blobFile({ no: 10 }));
    expect(imported).toMatchObject({ statements: 1, no: 10, issuer: expect.stringContaining('CN=Test MDS BLOB Signer'), stale: false, changed: true, previous_no: null });
    expect(imported.next_update).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await serverSees(10);
    expect(describeAuthenticator(mds.aaguid)).toMatchObject({ name: mds.description, source: 'metadata', iconLight: expect.stringMatching(/^data:image\/png;base64,/) });
    expect(isTrustedForAttestation(mds.aaguid)).toBe(true);
    expect(await cli.json('metadata', 'show')).toMatchObject({ statements: 1, no: 10 });
    const ready = await (await fetch(`${server.url}/readyz`)).json();
    expect(ready.authenticator_metadata).toEqual({ no: 10, next_update: imported.next_update, statements: 1 });
    const audit = await server.services.audit.list({ limit: 5 });
    expect(audit.find((event) => event.action === 'metadata.import')).toMatchObject({ actor: 'cli', outcome: 'success', detail: { no: 10 } });
  });

  it('refuses a tampered signature, another root and a rollback with one line each, keeping the stored BLOB', async () => {
    const good = await mds.blob({ no: 20 });
    const [header, payload, signature] = good.split('.');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    const tamperedFile = `${await mds.blobFile({ no: 20 })}.tampered`;
    writeFileSync(tamperedFile, `${header}.${payload}.${flipped}`);
    expect((await cli.fail('metadata', 'import', tamperedFile)).reason).toMatch(/^latchkey: refused: the BLOB signature does not verify/);

    // The payload of another BLOB under this signature: a signature over other bytes.
    const otherPayload = (await mds.blob({ no: 21 })).split('.')[1];
    const swappedFile = `${tamperedFile}.swapped`;
    writeFileSync(swappedFile, `${header}.${otherPayload}.${signature}`);
    expect((await cli.fail('metadata', 'import', swappedFile)).reason).toMatch(/signature does not verify/);

    const otherRoot = await createCa('C=US, O=Someone Else, CN=Not The FIDO Root');
    const wrongRootFile = await mds.blobFile({ no: 22, signer: await issue(otherRoot, 'C=US, O=Someone Else, CN=Signer') });
    expect((await cli.fail('metadata', 'import', wrongRootFile)).reason).toMatch(/^latchkey: refused: the BLOB's certificate chain does not lead to the trusted FIDO root \(FIDO_MDS_ROOT_CERT\)/);

    const rollback = await cli.fail('metadata', 'import', await mds.blobFile({ no: 9 }));
    expect(rollback.reason).toMatch(/^latchkey: refused: this BLOB is number 9, older than the imported number 10 \(a rollback\)/);

    const notJwt = `${tamperedFile}.txt`;
    writeFileSync(notJwt, 'hello');
    expect((await cli.fail('metadata', 'import', notJwt)).reason).toMatch(/^latchkey: not a FIDO Metadata Service BLOB/);
    expect((await cli.fail('metadata', 'import', '/no/such/blob.jwt')).reason).toMatch(/cannot read \/no\/such\/blob\.jwt: ENOENT/);

    expect(await cli.json('metadata', 'show')).toMatchObject({ no: 10 });
    // The same BLOB again changes nothing and is not an error.
    const same = await cli.json('metadata', 'import', await mds.blobFile({ no: 10 }));
    expect(same).toMatchObject({ no: 10, changed: false });
  });

  it('accepts a BLOB past its nextUpdate with a warning, also on /readyz', async () => {
    const stale = await cli.json('metadata', 'import', await mds.blobFile({ no: 30, nextUpdate: '2020-01-01' }));
    expect(stale).toMatchObject({ no: 30, stale: true, warning: expect.stringContaining('FIDO published a newer BLOB on 2020-01-01') });
    await serverSees(30);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).authenticator_metadata.warning).toMatch(/^stale: FIDO published a newer metadata BLOB on 2020-01-01/);
  });

  it('a REVOKED or compromised authenticator no longer counts as attested', async () => {
    // In process (the same verify-and-import the CLI runs): only the verdict is under test here.
    const importBlob = async (statusReports: { status: string; effectiveDate: string }[], no: number) => {
      await server.services.authenticatorMetadata.import(await verifyMetadataBlob(await mds.blob({ no, statusReports }), mds.root.pem), CLI_ACTOR);
      await serverSees(no);
    };
    await importBlob([{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2024-01-01' }, { status: 'REVOKED', effectiveDate: '2025-01-01' }], 40);
    expect(isTrustedForAttestation(mds.aaguid)).toBe(false);
    await importBlob([{ status: 'ATTESTATION_KEY_COMPROMISE', effectiveDate: '2024-01-01' }, { status: 'FIDO_CERTIFIED_L2', effectiveDate: '2025-01-01' }], 41);
    expect(isTrustedForAttestation(mds.aaguid)).toBe(false);
    await importBlob([{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2024-01-01' }], 42);
    expect(isTrustedForAttestation(mds.aaguid)).toBe(true);
    expect(isTrustedForAttestation('00000000-0000-0000-0000-000000000000')).toBe(false);
  });

  it('survives a restart: a new server on the same store loads the stored BLOB', async () => {
    const again = await startTestServer({ store: kind, dataDir: server.dataDir, keepData: true, env: { ...server.env } });
    try {
      expect(again.app.metadata.status()).toMatchObject({ loaded: true, no: 42, statements: 1 });
    } finally {
      await again.close();
    }
  });
});
