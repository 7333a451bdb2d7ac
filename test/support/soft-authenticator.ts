/**
 * A software WebAuthn authenticator (ES256; "none" attestation, or "packed" with an x5c chain when
 * given an attestation certificate, see mds-fixture.ts) for HTTP-level tests and the
 * load generator: it answers the same JSON options a browser gets and produces the same JSON
 * responses @simplewebauthn/browser would send, signed for real, so the server verifies them
 * exactly as it verifies a browser's.
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
  /**
   * Full ("basic") attestation in the packed format (WebAuthn L3 §8.2): the attestation
   * certificate chain (leaf first, DER) and the leaf's private key, which signs
   * authenticatorData || SHA-256(clientDataJSON).
   */
  attestation?: { x5c: Buffer[]; privateKey: KeyObject };
}

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
  register(options: Record<string, any>, overrides: { origin?: string } = {}): Record<string, unknown> {
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
    const attestation = this.options.attestation;
    const attestationObject = attestation
      ? cborEncode({
          fmt: 'packed',
          attStmt: { alg: -7, sig: sign('sha256', Buffer.concat([authData, createHash('sha256').update(clientDataJSON).digest()]), attestation.privateKey), x5c: attestation.x5c },
          authData,
        })
      : cborEncode({ fmt: 'none', attStmt: {}, authData });
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
