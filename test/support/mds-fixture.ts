/**
 * A small FIDO Metadata Service made at test time, so BLOB import and attestation verification run
 * on real certificates and real signatures without FIDO's network:
 * - `root`: the test stand-in for the FIDO root (FIDO_MDS_ROOT_CERT points at `rootPemFile`);
 * - `blobSigner`: the BLOB signing certificate, issued by `root` (the x5c of every BLOB);
 * - `attestationCa`: the authenticator vendor's CA, the one root listed in the statement's
 *   attestationRootCertificates; `attestation` is a packed attestation (attestation-formats.ts)
 *   whose certificate it issued, for SoftAuthenticator's `attestation` option; tests make the
 *   other formats (tpm, android-key) under the same CA;
 * - `forgedCa`: a CA nobody lists; `forgedAttestation` is the same kind of packed attestation
 *   under it.
 * blob() signs a BLOB payload (MDS3 §3.1.6) with the signer, or with any other key and chain.
 * The certificates come from test-certificates.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompactSign } from 'jose';
import { createCa, issue, type TestCertificate } from './test-certificates.ts';
import { packedAttestation } from './attestation-formats.ts';
import type { AttestationFormat } from './soft-authenticator.ts';

const DAY = 86_400_000;

export interface BlobOptions {
  no: number;
  nextUpdate?: string;
  statusReports?: { status: string; effectiveDate?: string }[];
  /** Sign with this certificate's key and put this chain in x5c (default: the fixture's signer). */
  signer?: TestCertificate;
  /** Intermediate certificates after the signer in x5c (as FIDO's own BLOB carries one). */
  intermediates?: TestCertificate[];
  /** Edit the payload after the statement was built. */
  payload?: (payload: Record<string, unknown>) => Record<string, unknown>;
}

export interface MdsFixture {
  aaguid: string;
  description: string;
  root: TestCertificate;
  rootPemFile: string;
  blobSigner: TestCertificate;
  attestationCa: TestCertificate;
  attestation: AttestationFormat;
  forgedCa: TestCertificate;
  forgedAttestation: AttestationFormat;
  /** The metadata statement for `aaguid` (FIDO Metadata Statement v3.0 §4). */
  statement(): Record<string, unknown>;
  blob(options: BlobOptions): Promise<string>;
  /** Writes a BLOB to a file and returns its path (for `latchkey metadata import`). */
  blobFile(options: BlobOptions): Promise<string>;
}

export const TEST_AAGUID = '5e57a7e5-7e57-4e57-9e57-a7e57a7e57a7';

export async function createMdsFixture(options: { aaguid?: string; description?: string } = {}): Promise<MdsFixture> {
  const aaguid = options.aaguid ?? TEST_AAGUID;
  const description = options.description ?? 'Latchkey Test Security Key';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-mds-'));
  const root = await createCa('C=US, O=Test FIDO Alliance, CN=Test MDS Root');
  const rootPemFile = path.join(dir, 'test-mds-root.pem');
  writeFileSync(rootPemFile, root.pem);
  const blobSigner = await issue(root, 'C=US, O=Test FIDO Alliance, CN=Test MDS BLOB Signer');
  const attestationCa = await createCa('C=SE, O=Test Vendor, CN=Test Vendor Attestation Root');
  const forgedCa = await createCa('C=SE, O=Forger, CN=Forged Attestation Root');
  let files = 0;

  const statement = () => ({
    legalHeader: 'Test statement',
    aaguid,
    description,
    authenticatorVersion: 1,
    protocolFamily: 'fido2',
    schema: 3,
    upv: [{ major: 1, minor: 1 }],
    authenticationAlgorithms: ['secp256r1_ecdsa_sha256_raw'],
    publicKeyAlgAndEncodings: ['cose'],
    attestationTypes: ['basic_full'],
    userVerificationDetails: [[{ userVerificationMethod: 'presence_internal' }]],
    keyProtection: ['hardware', 'secure_element'],
    matcherProtection: ['on_chip'],
    attachmentHint: ['external', 'wired'],
    tcDisplay: [],
    attestationRootCertificates: [attestationCa.base64],
    icon: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  });

  async function blob(blobOptions: BlobOptions): Promise<string> {
    const signer = blobOptions.signer ?? blobSigner;
    let payload: Record<string, unknown> = {
      legalHeader: 'Retrieval and use of this BLOB indicates acceptance of the test terms.',
      no: blobOptions.no,
      nextUpdate: blobOptions.nextUpdate ?? new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10),
      entries: [
        {
          aaguid,
          metadataStatement: statement(),
          statusReports: blobOptions.statusReports ?? [{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2024-01-01' }],
          timeOfLastStatusChange: '2024-01-01',
        },
        // A U2F entry (no AAGUID): a BLOB carries them, the import drops them.
        { attestationCertificateKeyIdentifiers: ['0123456789abcdef0123456789abcdef01234567'], statusReports: [{ status: 'FIDO_CERTIFIED' }], timeOfLastStatusChange: '2020-01-01' },
      ],
    };
    if (blobOptions.payload) payload = blobOptions.payload(payload);
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [signer.base64, ...(blobOptions.intermediates ?? []).map((cert) => cert.base64)] })
      .sign(signer.keys.privateKey);
  }

  return {
    aaguid,
    description,
    root,
    rootPemFile,
    blobSigner,
    attestationCa,
    attestation: packedAttestation(attestationCa, aaguid),
    forgedCa,
    forgedAttestation: packedAttestation(forgedCa, aaguid),
    statement,
    blob,
    async blobFile(blobOptions) {
      const file = path.join(dir, `blob-${++files}.jwt`);
      writeFileSync(file, await blob(blobOptions));
      return file;
    },
  };
}
