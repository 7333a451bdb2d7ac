/**
 * BLOB verification on its own (edges/webauthn/metadata-blob.ts), without a server: a chain
 * through an intermediate (as FIDO's BLOB has) is accepted, only FIDO2 entries are kept, and a
 * payload without the MDS3 §3.1.6 fields, a BLOB signed by a certificate that is not in x5c, or
 * one whose x5c is missing, is refused with a specific message.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { CompactSign } from 'jose';
import { createMdsFixture, type MdsFixture } from '../support/mds-fixture.ts';
import { issue } from '../support/test-certificates.ts';
import { verifyMetadataBlob } from '../../server/edges/webauthn/metadata-blob.ts';

describe('FIDO MDS3 BLOB verification', () => {
  let mds: MdsFixture;
  beforeAll(async () => {
    mds = await createMdsFixture();
  });

  it('accepts a chain through an intermediate CA and keeps only FIDO2 entries', async () => {
    const intermediate = await issue(mds.root, 'C=US, O=Test FIDO Alliance, CN=Test MDS Intermediate', [], { ca: true });
    const signer = await issue(intermediate, 'C=US, O=Test FIDO Alliance, CN=Test MDS Signer 2');
    const verified = await verifyMetadataBlob(await mds.blob({ no: 5, signer, intermediates: [intermediate] }), mds.root.pem);
    expect(verified).toMatchObject({ no: 5, signer: expect.stringContaining('CN=Test MDS Signer 2') });
    expect(verified.entries.map((entry) => entry.aaguid)).toEqual([mds.aaguid]);
    expect(verified.entries[0].metadataStatement).toMatchObject({ description: mds.description });
  });

  it('refuses a signature by a key that is not the x5c leaf, a missing x5c, and a payload without no', async () => {
    const stranger = await issue(mds.root, 'CN=Stranger');
    const payload = new TextEncoder().encode(JSON.stringify({ no: 1, nextUpdate: '2030-01-01', legalHeader: '', entries: [] }));
    const signedByStranger = await new CompactSign(payload).setProtectedHeader({ alg: 'ES256', x5c: [mds.blobSigner.base64] }).sign(stranger.keys.privateKey);
    await expect(verifyMetadataBlob(signedByStranger, mds.root.pem)).rejects.toThrow(/^refused: the BLOB signature does not verify/);
    const withoutX5c = await new CompactSign(payload).setProtectedHeader({ alg: 'ES256' }).sign(mds.blobSigner.keys.privateKey);
    await expect(verifyMetadataBlob(withoutX5c, mds.root.pem)).rejects.toThrow(/has no x5c certificate chain/);
    const noNumber = await mds.blob({ no: 1, payload: ({ no: _dropped, ...rest }) => rest });
    await expect(verifyMetadataBlob(noNumber, mds.root.pem)).rejects.toThrow(/^not a FIDO Metadata Service BLOB: payload no:/);
  });
});
