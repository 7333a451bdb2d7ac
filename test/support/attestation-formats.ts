/**
 * Attestation statement formats for SoftAuthenticator (WebAuthn L3 §8), built from real
 * certificates (test-certificates.ts) and real signatures, carrying exactly what
 * @simplewebauthn/server checks for each format, so registration runs its full verification:
 * - packed (§8.2): an attestation certificate (OU "Authenticator Attestation", CA false, the
 *   id-fido-gen-ce-aaguid extension) whose key signs authData || clientDataHash;
 * - tpm (§8.3): pubArea (TPMT_PUBLIC) holding the credential key, certInfo (TPMS_ATTEST,
 *   TPM_ST_ATTEST_CERTIFY) naming that pubArea and carrying SHA-256(authData || clientDataHash) as
 *   extraData, signed by an AIK whose certificate is v3 with an empty subject, a SAN with the TPM
 *   manufacturer, model and version, EKU tcg-kp-AIKCertificate, CA false and the AAGUID extension;
 * - android-key (§8.4): a certificate for the credential key itself carrying the Android key
 *   attestation extension (KeyDescription, attestationChallenge = clientDataHash, no
 *   allApplications), and the credential key's signature over authData || clientDataHash;
 * - apple (§8.8): a certificate for the credential key whose extension 1.2.840.113635.100.8.2
 *   holds SHA-256(authData || clientDataHash);
 * - fido-u2f (§8.6): a U2F attestation certificate whose key signs the U2F registration data
 *   (the authenticator's AAGUID must be zero).
 * Each takes the CA that issues the leaf and the chain to send after it (intermediates, never the
 * root), and options that break one rule on purpose so a test can see it refused.
 */
import { createHash, sign } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, GeneralName, Name, RelativeDistinguishedName, SubjectAlternativeName } from '@peculiar/asn1-x509';
import { AuthorizationList, id_ce_keyDescription, IntegerSet, KeyDescription, SecurityLevel, Version } from '@peculiar/asn1-android';
import { certifyKey, issue, nodePrivateKey, type TestCertificate } from './test-certificates.ts';
import type { AttestationFormat } from './soft-authenticator.ts';

/** COSE ES256: every statement here is signed with ECDSA P-256 and SHA-256. */
const ES256 = -7;
/** id-fido-gen-ce-aaguid (FIDO Authenticator Metadata: attestation certificate extension). */
const FIDO_AAGUID_OID = '1.3.6.1.4.1.45724.1.1.4';
/** Apple's anonymous attestation nonce extension (WebAuthn L3 §8.8). */
const APPLE_NONCE_OID = '1.2.840.113635.100.8.2';
/** TCG attributes in the AIK certificate's subjectAltName, and its EKU tcg-kp-AIKCertificate. */
const TCG_AT_TPM_MANUFACTURER = '2.23.133.2.1';
const TCG_AT_TPM_MODEL = '2.23.133.2.2';
const TCG_AT_TPM_VERSION = '2.23.133.2.3';
const TCG_KP_AIK_CERTIFICATE = '2.23.133.8.3';

export interface ChainOptions {
  /** Certificates sent after the leaf in x5c (intermediates; the verifier supplies the root). */
  chain?: TestCertificate[];
}

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const x5cOf = (leaf: Buffer, options: ChainOptions) => [leaf, ...(options.chain ?? []).map((cert) => cert.der)];

export function aaguidExtension(aaguid: string): x509.Extension {
  return new x509.Extension(FIDO_AAGUID_OID, false, AsnConvert.serialize(new OctetString(Buffer.from(aaguid.replace(/-/g, ''), 'hex'))));
}

/** Makes a value on first use and keeps it (a format's attestation certificate is made once). */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** Full (basic) packed attestation with an x5c chain. */
export function packedAttestation(issuer: TestCertificate, aaguid: string, options: ChainOptions & { vendor?: string } = {}): AttestationFormat {
  const vendor = options.vendor ?? 'Test Vendor';
  const leaf = once(async () => {
    const cert = await issue(issuer, `C=SE, O=${vendor}, OU=Authenticator Attestation, CN=${vendor} Attestation`, [aaguidExtension(aaguid)]);
    return { der: cert.der, privateKey: await nodePrivateKey(cert) };
  });
  return async ({ authData, clientDataHash }) => {
    const { der, privateKey } = await leaf();
    return { fmt: 'packed', attStmt: { alg: ES256, sig: sign('sha256', Buffer.concat([authData, clientDataHash]), privateKey), x5c: x5cOf(der, options) } };
  };
}

/** The Android Keystore's description of a hardware-backed P-256 signing key (Keymaster tag values). */
function keyDescription(challenge: Buffer, allApplications: boolean): KeyDescription {
  const teeEnforced = new AuthorizationList({
    purpose: new IntegerSet([2]), // KM_PURPOSE_SIGN
    algorithm: 3, // KM_ALGORITHM_EC
    keySize: 256,
    digest: new IntegerSet([4]), // KM_DIGEST_SHA_2_256
    ecCurve: 1, // KM_EC_CURVE_P_256
    origin: 0, // KM_ORIGIN_GENERATED
  });
  if (allApplications) teeEnforced.allApplications = null;
  return new KeyDescription({
    attestationVersion: Version.keyMint2,
    attestationSecurityLevel: SecurityLevel.trustedEnvironment,
    keymasterVersion: 200,
    keymasterSecurityLevel: SecurityLevel.trustedEnvironment,
    attestationChallenge: new OctetString(challenge),
    uniqueId: new OctetString(0),
    softwareEnforced: new AuthorizationList(),
    teeEnforced,
  });
}

export interface AndroidKeyOptions extends ChainOptions {
  /** Put this in attestationChallenge instead of the clientDataHash. */
  challenge?: Buffer;
  /** Mark the key usable by every application (the [600] tag WebAuthn L3 §8.4.1 forbids). */
  allApplications?: boolean;
}

/** android-key: the Keystore certifies the credential key itself, then that key signs. */
export function androidKeyAttestation(issuer: TestCertificate, options: AndroidKeyOptions = {}): AttestationFormat {
  return async ({ authData, clientDataHash, credentialKey }) => {
    const description = keyDescription(options.challenge ?? clientDataHash, options.allApplications ?? false);
    const extension = new x509.Extension(id_ce_keyDescription, false, AsnConvert.serialize(description));
    const leaf = await certifyKey(issuer, 'CN=Android Keystore Key', credentialKey.publicKey, [extension]);
    const sig = sign('sha256', Buffer.concat([authData, clientDataHash]), credentialKey.privateKey);
    return { fmt: 'android-key', attStmt: { alg: ES256, sig, x5c: x5cOf(leaf, options) } };
  };
}

/** apple: Apple's anonymous CA certifies the credential key and the nonce; there is no signature. */
export function appleAttestation(issuer: TestCertificate, options: ChainOptions & { nonce?: Buffer } = {}): AttestationFormat {
  return async ({ authData, clientDataHash, credentialKey }) => {
    const nonce = options.nonce ?? sha256(authData, clientDataHash);
    // SEQUENCE { [1] EXPLICIT OCTET STRING (32 bytes) }: the six header bytes the verifier skips.
    const value = Buffer.concat([Buffer.from([0x30, 0x24, 0xa1, 0x22, 0x04, 0x20]), nonce]);
    const leaf = await certifyKey(issuer, 'CN=Test Apple Credential, O=Apple Inc., ST=California', credentialKey.publicKey, [new x509.Extension(APPLE_NONCE_OID, false, value)]);
    return { fmt: 'apple', attStmt: { alg: ES256, x5c: x5cOf(leaf, options) } };
  };
}

/** fido-u2f: the U2F device's attestation key signs 0x00 || rpIdHash || clientDataHash || credentialId || public key. */
export function fidoU2fAttestation(issuer: TestCertificate, options: ChainOptions = {}): AttestationFormat {
  const leaf = once(async () => {
    const cert = await issue(issuer, 'C=SE, O=Test Vendor, CN=Test U2F Attestation');
    return { der: cert.der, privateKey: await nodePrivateKey(cert) };
  });
  return async ({ authData, clientDataHash, credentialKey }) => {
    const { der, privateKey } = await leaf();
    // authData: rpIdHash (32), flags (1), counter (4), AAGUID (16), credentialId length (2), credentialId.
    const credentialId = authData.subarray(55, 55 + authData.readUInt16BE(53));
    const jwk = credentialKey.publicKey.export({ format: 'jwk' });
    const publicKey = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    const signed = Buffer.concat([Buffer.from([0x00]), authData.subarray(0, 32), clientDataHash, credentialId, publicKey]);
    return { fmt: 'fido-u2f', attStmt: { sig: sign('sha256', signed, privateKey), x5c: x5cOf(der, options) } };
  };
}

const u16 = (value: number) => Buffer.from([value >> 8, value & 0xff]);
function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}
/** TPM2B_*: a 16-bit size, then the bytes (TPM 2.0 Part 2 §10.4). */
const tpm2b = (bytes: Buffer) => Buffer.concat([u16(bytes.length), bytes]);

const TPM_ALG_ECC = 0x0023;
const TPM_ALG_SHA256 = 0x000b;
const TPM_ALG_NULL = 0x0010;
const TPM_ECC_NIST_P256 = 0x0003;
const TPM_GENERATED_VALUE = 0xff544347;
const TPM_ST_ATTEST_CERTIFY = 0x8017;
/** fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | noDA | sign (Part 2 §8.3). */
const SIGNING_KEY_ATTRIBUTES = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 10) | (1 << 18);

/** TPMT_PUBLIC for an ECC P-256 signing key: NULL symmetric, scheme and KDF carry no details. */
function eccPubArea(x: Buffer, y: Buffer): Buffer {
  return Buffer.concat([u16(TPM_ALG_ECC), u16(TPM_ALG_SHA256), u32(SIGNING_KEY_ATTRIBUTES), tpm2b(Buffer.alloc(0)), u16(TPM_ALG_NULL), u16(TPM_ALG_NULL), u16(TPM_ECC_NIST_P256), u16(TPM_ALG_NULL), tpm2b(x), tpm2b(y)]);
}

/** TPMS_ATTEST of TPM2_Certify: the TPM vouches that the key named `name` lives in it. */
function certifyInfo(extraData: Buffer, name: Buffer): Buffer {
  const clockInfo = Buffer.concat([Buffer.alloc(8, 1), u32(3), u32(1), Buffer.from([1])]); // clock, resetCount, restartCount, safe
  const firmwareVersion = Buffer.from('0001000200030004', 'hex');
  const qualifiedSigner = Buffer.concat([u16(TPM_ALG_SHA256), sha256(Buffer.from('test endorsement hierarchy'))]);
  const qualifiedName = Buffer.concat([u16(TPM_ALG_SHA256), sha256(Buffer.from('test storage root'), name)]);
  return Buffer.concat([u32(TPM_GENERATED_VALUE), u16(TPM_ST_ATTEST_CERTIFY), tpm2b(qualifiedSigner), tpm2b(extraData), clockInfo, firmwareVersion, tpm2b(name), tpm2b(qualifiedName)]);
}

/** The AIK certificate's subjectAltName: a directoryName of the TCG TPM attributes, one per RDN. */
function tpmSubjectAltName(manufacturer: string): x509.Extension {
  const attribute = (type: string, value: string) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  const name = new Name([attribute(TCG_AT_TPM_MANUFACTURER, manufacturer), attribute(TCG_AT_TPM_MODEL, 'TestTPM'), attribute(TCG_AT_TPM_VERSION, 'id:13')]);
  // Critical: the subject is empty, so the SAN is the certificate's only name (RFC 5280 §4.2.1.6).
  return new x509.Extension('2.5.29.17', true, AsnConvert.serialize(new SubjectAlternativeName([new GeneralName({ directoryName: name })])));
}

export interface TpmOptions extends ChainOptions {
  /** TPM_MANUFACTURERS id in the SAN (default AMD, "id:414D4400"). */
  manufacturer?: string;
  /** The AAGUID in the AIK certificate's extension (default: the authenticator's). */
  certificateAaguid?: string;
}

/** tpm: an AIK certified by the vendor CA signs certInfo, which names the credential key's pubArea. */
export function tpmAttestation(issuer: TestCertificate, aaguid: string, options: TpmOptions = {}): AttestationFormat {
  const aik = once(async () => {
    const extensions = [tpmSubjectAltName(options.manufacturer ?? 'id:414D4400'), new x509.ExtendedKeyUsageExtension([TCG_KP_AIK_CERTIFICATE]), aaguidExtension(options.certificateAaguid ?? aaguid)];
    const cert = await issue(issuer, '', extensions);
    return { der: cert.der, privateKey: await nodePrivateKey(cert) };
  });
  return async ({ authData, clientDataHash, credentialKey }) => {
    const { der, privateKey } = await aik();
    const jwk = credentialKey.publicKey.export({ format: 'jwk' });
    const pubArea = eccPubArea(Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url'));
    const certInfo = certifyInfo(sha256(authData, clientDataHash), Buffer.concat([u16(TPM_ALG_SHA256), sha256(pubArea)]));
    return { fmt: 'tpm', attStmt: { ver: '2.0', alg: ES256, x5c: x5cOf(der, options), sig: sign('sha256', certInfo, privateKey), certInfo, pubArea } };
  };
}
