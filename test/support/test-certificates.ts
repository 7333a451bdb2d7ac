/**
 * Test X.509 certificates made at run time with @peculiar/x509 (the library SimpleWebAuthn itself
 * builds chains with), so the FIDO metadata fixture and the attestation formats verify real
 * certificates and real signatures:
 * - createCa: a self-signed CA (basicConstraints CA true, keyCertSign);
 * - issue: a certificate with a fresh ES256 key pair, issued by a CA;
 * - certifyKey: a certificate for a key made elsewhere (a credential key: android-key and apple
 *   certify the new credential's own public key), with a chosen subject (TPM's AIK has none).
 * All are valid from yesterday for a year: the verifiers check validity periods.
 */
import 'reflect-metadata';
import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ES256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface TestCertificate {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  /** DER, base64 (as in x5c and attestationRootCertificates). */
  base64: string;
  pem: string;
  /** DER bytes (as in an attestation statement's x5c). */
  der: Buffer;
}

let serial = 1;
const nextSerial = () => (serial++).toString(16).padStart(2, '0');
const validity = () => ({ notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 365 * DAY) });

function wrap(cert: x509.X509Certificate, keys: CryptoKeyPair): TestCertificate {
  const der = Buffer.from(cert.rawData);
  return { cert, keys, base64: der.toString('base64'), pem: cert.toString('pem'), der };
}

const newKeys = async () => (await webcrypto.subtle.generateKey(ES256, true, ['sign', 'verify'])) as CryptoKeyPair;

export async function createCa(name: string): Promise<TestCertificate> {
  const keys = await newKeys();
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

/** A certificate for a fresh key pair; `ca: true` makes an intermediate CA. */
export async function issue(issuer: TestCertificate, name: string, extensions: x509.Extension[] = [], options: { ca?: boolean } = {}): Promise<TestCertificate> {
  const keys = await newKeys();
  const ca = options.ca ?? false;
  const usages = ca ? [new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)] : [];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: name,
    issuer: issuer.cert.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ES256,
    ...validity(),
    extensions: [new x509.BasicConstraintsExtension(ca, undefined, true), ...usages, ...extensions],
  });
  return wrap(cert, keys);
}

/** A leaf certificate (CA false) for `publicKey`, DER; `subject` '' leaves the subject empty. */
export async function certifyKey(issuer: TestCertificate, subject: string, publicKey: KeyObject, extensions: x509.Extension[] = []): Promise<Buffer> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject,
    issuer: issuer.cert.subject,
    publicKey: publicKey.export({ type: 'spki', format: 'der' }),
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ES256,
    ...validity(),
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), ...extensions],
  });
  return Buffer.from(cert.rawData);
}

export async function nodePrivateKey(certificate: TestCertificate): Promise<KeyObject> {
  return createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', certificate.keys.privateKey)), format: 'der', type: 'pkcs8' });
}
