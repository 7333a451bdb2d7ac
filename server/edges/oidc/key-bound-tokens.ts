/**
 * Access tokens are opaque, so no signature ties them to a key; revoking a signing key must still
 * refuse what was issued with it (the ID token and the access token of one token response go
 * together). Each access token is stored with the kid that signed ID tokens when it was issued,
 * and one whose key is revoked (or gone) is not found: userinfo answers invalid_token at once.
 * Tokens stored before this tag existed carry none and are left alone.
 */
type Payload = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the mixin pattern requires it
type AdapterClass = new (...args: any[]) => {
  readonly name: string;
  upsert(id: string, payload: Payload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
};

const TAG = 'signingKid';
const TAGGED_MODELS = new Set(['AccessToken']);

export function bindTokensToSigningKey<T extends AdapterClass>(Base: T, signingKid: string, refuses: (kid: string) => Promise<boolean>): T {
  return class KeyBoundAdapter extends Base {
    override async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      return super.upsert(id, TAGGED_MODELS.has(this.name) ? { ...payload, [TAG]: signingKid } : payload, expiresIn);
    }

    override async find(id: string): Promise<Payload | undefined> {
      const payload = await super.find(id);
      if (!payload || !TAGGED_MODELS.has(this.name) || typeof payload[TAG] !== 'string') return payload;
      if (await refuses(payload[TAG])) return undefined;
      const { [TAG]: _kid, ...rest } = payload;
      return rest;
    }
  };
}
