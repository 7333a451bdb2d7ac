/**
 * A small FIDO Metadata Service made at test time, so BLOB import and attestation verification run
 * on real certificates and real signatures without FIDO's network:
 * - `root`: the test stand-in for the FIDO root (FIDO_MDS_ROOT_CERT points at `rootPemFile`);
 * - `blobSigner`: the BLOB signing certificate, issued by `root` (the x5c of every BLOB);
 * - `attestationCa`: the authenticator vendor's CA, listed in the statement's
 *   attestationRootCertificates; `attestation` is an attestation certificate it issued (FIDO
 *   packed format rules, WebAuthn L3 §8.2.1: OU "Authenticator Attestation", CA false, the
 *   id-fido-gen-ce-aaguid extension), for SoftAuthenticator's `attestation` option;
 * - `forgedAttestation`: the same kind of certificate issued by a CA nobody trusts.
 * blob() signs a BLOB payload (MDS3 §3.1.6) with the signer, or with any other key and chain.
 */
import 'reflect-metadata';
import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { CompactSign } from 'jose';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ES256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
/** id-fido-gen-ce-aaguid (FIDO Authenticator Metadata §"attestation certificate extension"). */
const FIDO_AAGUID_OID = '1.3.6.1.4.1.45724.1.1.4';

export interface TestCertificate {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  /** DER, base64 (as in x5c and attestationRootCertificates). */
  base64: string;
  pem: string;
}

let serial = 1;
const nextSerial = () => (serial++).toString(16).padStart(2, '0');
const validity = () => ({ notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 365 * DAY) });

function wrap(cert: x509.X509Certificate, keys: CryptoKeyPair): TestCertificate {
  return { cert, keys, base64: Buffer.from(cert.rawData).toString('base64'), pem: cert.toString('pem') };
}

export async function createCa(name: string): Promise<TestCertificate> {
  const keys = (await webcrypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name,
    keys,
    signingAlgorithm: ES256,
    ...validity(),
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return wrap(cert, keys);
}

export async function issue(issuer: TestCertificate, name: string, extensions: x509.Extension[] = [], options: { ca?: boolean } = {}): Promise<TestCertificate> {
  const keys = (await webcrypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: name,
    issuer: issuer.cert.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ES256,
    ...validity(),
    extensions: [new x509.BasicConstraintsExtension(options.ca ?? false, undefined, true), ...extensions],
  });
  return wrap(cert, keys);
}

export async function nodePrivateKey(certificate: TestCertificate): Promise<KeyObject> {
  return createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', certificate.keys.privateKey)), format: 'der', type: 'pkcs8' });
}

/** What SoftAuthenticator needs to produce a `packed` attestation with an x5c chain. */
export interface PackedAttestation {
  x5c: Buffer[];
  privateKey: KeyObject;
}

async function attestationFrom(ca: TestCertificate, aaguid: string, vendor: string): Promise<PackedAttestation> {
  // The extension value is an OCTET STRING holding the 16 AAGUID bytes.
  const aaguidExtension = new x509.Extension(FIDO_AAGUID_OID, false, Buffer.concat([Buffer.from([0x04, 0x10]), Buffer.from(aaguid.replace(/-/g, ''), 'hex')]));
  const leaf = await issue(ca, `C=SE, O=${vendor}, OU=Authenticator Attestation, CN=${vendor} Attestation`, [aaguidExtension]);
  return { x5c: [Buffer.from(leaf.cert.rawData)], privateKey: await nodePrivateKey(leaf) };
}

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
  attestation: PackedAttestation;
  forgedAttestation: PackedAttestation;
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
  const attestation = await attestationFrom(attestationCa, aaguid, 'Test Vendor');
  const forgedAttestation = await attestationFrom(await createCa('C=SE, O=Forger, CN=Forged Attestation Root'), aaguid, 'Test Vendor');
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
    attestation,
    forgedAttestation,
    statement,
    blob,
    async blobFile(blobOptions) {
      const file = path.join(dir, `blob-${++files}.jwt`);
      writeFileSync(file, await blob(blobOptions));
      return file;
    },
  };
}
