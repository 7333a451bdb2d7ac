/**
 * A software WebAuthn authenticator (ES256) for HTTP-level tests and the load generator: it
 * answers the same JSON options a browser gets and produces the same JSON responses
 * @simplewebauthn/browser would send, signed for real, so the server verifies them exactly as it
 * verifies a browser's. Its attestation is "none" unless given an `attestation` format
 * (attestation-formats.ts: packed, tpm, android-key, apple), which builds the statement from the
 * new credential's authenticator data, client data hash and key pair.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

type Cbor = number | string | Uint8Array | Cbor[] | Map<number | string, Cbor> | { [key: string]: Cbor };

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = (major << 5) | 26;
  out.writeUInt32BE(length, 1);
  return out;
}

export function cborEncode(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cborEncode)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([key, item]) => [cborEncode(key), cborEncode(item)])]);
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

export interface SoftCredential {
  id: string;
  privateKey: KeyObject;
  userHandle: string;
  rpId: string;
  counter: number;
}

export interface SoftAuthenticatorOptions {
  origin: string;
  /** Counter increment per signature; 0 mimics authenticators that never count (passkeys). */
  counterStep?: number;
  aaguid?: string;
  backupEligible?: boolean;
  /** Builds the attestation statement (default: fmt "none", an empty attStmt). */
  attestation?: AttestationFormat;
}

/** What an attestation statement format signs or certifies (WebAuthn L3 §6.5.4, §8). */
export interface AttestationInput {
  authData: Buffer;
  clientDataHash: Buffer;
  /** The new credential's key pair: android-key and apple certify its public key, tpm's pubArea holds it. */
  credentialKey: { privateKey: KeyObject; publicKey: KeyObject };
}

export interface AttestationStatement {
  fmt: string;
  attStmt: { [key: string]: Cbor };
}

/** One attestation statement format: async because some issue a certificate per credential. */
export type AttestationFormat = (input: AttestationInput) => Promise<AttestationStatement>;

export class SoftAuthenticator {
  readonly credentials = new Map<string, SoftCredential>();
  private readonly counterStep: number;
  constructor(private readonly options: SoftAuthenticatorOptions) {
    this.counterStep = options.counterStep ?? 1;
  }

  private flags(extra: number): number {
    const backup = this.options.backupEligible ? 0x08 | 0x10 : 0;
    return 0x01 | 0x04 | backup | extra; // UP | UV (| BE | BS) | extra
  }

  private clientData(type: string, challenge: string, origin = this.options.origin): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** Answers navigator.credentials.create() options (PublicKeyCredentialCreationOptionsJSON). */
  async register(options: Record<string, any>, overrides: { origin?: string } = {}): Promise<Record<string, unknown>> {
    const rpId: string = options.rp?.id ?? new URL(this.options.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const credentialId = randomBytes(32);
    const aaguid = Buffer.from((this.options.aaguid ?? '00000000-0000-0000-0000-000000000000').replace(/-/g, ''), 'hex');
    const coseKey = cborEncode(new Map<number, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const counter = Buffer.alloc(4);
    const authData = Buffer.concat([createHash('sha256').update(rpId).digest(), Buffer.from([this.flags(0x40)]), counter, aaguid, idLength, credentialId, coseKey]);
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, overrides.origin);
    const clientDataHash = createHash('sha256').update(clientDataJSON).digest();
    const { fmt, attStmt } = this.options.attestation
      ? await this.options.attestation({ authData, clientDataHash, credentialKey: { privateKey, publicKey } })
      : { fmt: 'none', attStmt: {} };
    const attestationObject = cborEncode({ fmt, attStmt, authData });
    const id = b64url(credentialId);
    this.credentials.set(id, { id, privateKey, userHandle: options.user.id, rpId, counter: 0 });
    return {
      id,
      rawId: id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** Answers navigator.credentials.get() options; picks an allowed credential or any it holds. */
  authenticate(options: Record<string, any>, overrides: { origin?: string; credentialId?: string; counter?: number } = {}): Record<string, unknown> {
    const allowed: string[] = (options.allowCredentials ?? []).map((credential: { id: string }) => credential.id);
    const id = overrides.credentialId ?? (allowed.length ? allowed.find((candidate) => this.credentials.has(candidate)) : [...this.credentials.keys()][0]);
    const credential = id ? this.credentials.get(id) : undefined;
    if (!credential) throw new Error('NotAllowedError: no matching credential on this authenticator');
    credential.counter = overrides.counter ?? credential.counter + this.counterStep;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(credential.counter);
    const authData = Buffer.concat([createHash('sha256').update(options.rpId ?? credential.rpId).digest(), Buffer.from([this.flags(0)]), counter]);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, overrides.origin);
    const signature = sign('sha256', Buffer.concat([authData, createHash('sha256').update(clientDataJSON).digest()]), credential.privateKey);
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
