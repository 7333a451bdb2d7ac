/**
 * Client authentication settings of an OIDC app, validated once here for the CLI, the console and
 * the admin API.
 * - client_secret: a shared secret (client_secret_basic or client_secret_post).
 * - private_key_jwt (RFC 7523 §2.2, OIDC Core §9): the client signs an assertion with its private
 *   key; we keep only its public keys, inline (a JWKS) or as a jwks_uri fetched when needed. Okta's
 *   generated IdP key is RSA (RS256/384/512); PS* and ES* are accepted as RFC 7518 allows.
 */
import type { ClientAuth } from '../ports/storage.ts';
import { AppError } from './errors.ts';
import { isLoopbackHost } from './apps.ts';

export const CLIENT_ASSERTION_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;

export interface ClientAuthInput {
  method: 'client_secret' | 'private_key_jwt';
  /** A JWKS object or its JSON text. */
  jwks?: unknown;
  jwksUri?: string | null;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const CURVES = new Set(['P-256', 'P-384', 'P-521']);
const invalid = (message: string) => new AppError('invalid_input', message, { field: 'jwks' });

/** A public JWKS of signing keys, or a message that says which key is wrong and why. */
export function validateClientJwks(value: unknown): { keys: Record<string, unknown>[] } {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw invalid('the JWKS is not valid JSON');
    }
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw invalid('the JWKS must be an object with a non-empty "keys" array');
  if (keys.length > 20) throw invalid('the JWKS may hold at most 20 keys');
  return {
    keys: keys.map((key: Record<string, unknown>, index) => {
      const where = `JWKS key ${index + 1}${typeof key?.kid === 'string' ? ` (kid "${key.kid}")` : ''}`;
      if (!key || typeof key !== 'object') throw invalid(`${where} is not an object`);
      const leaked = PRIVATE_MEMBERS.filter((member) => member in key);
      if (leaked.length > 0) throw invalid(`${where} contains private key material (${leaked.join(', ')}): register the public key only`);
      if (key.use !== undefined && key.use !== 'sig') throw invalid(`${where} has use "${String(key.use)}", expected "sig"`);
      if (key.alg !== undefined && !(CLIENT_ASSERTION_ALGS as readonly unknown[]).includes(key.alg)) {
        throw invalid(`${where} has alg "${String(key.alg)}", expected one of ${CLIENT_ASSERTION_ALGS.join(', ')}`);
      }
      if (key.kty === 'RSA') {
        if (typeof key.n !== 'string' || typeof key.e !== 'string') throw invalid(`${where}: an RSA key needs "n" and "e"`);
      } else if (key.kty === 'EC') {
        if (!CURVES.has(String(key.crv)) || typeof key.x !== 'string' || typeof key.y !== 'string') throw invalid(`${where}: an EC key needs "crv" (P-256, P-384 or P-521), "x" and "y"`);
      } else {
        throw invalid(`${where} has kty "${String(key.kty)}", expected "RSA" or "EC"`);
      }
      return key;
    }),
  };
}

export function validateJwksUri(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new AppError('invalid_input', `jwks_uri "${input}" is not a URL`, { field: 'jwksUri' });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new AppError('invalid_input', `jwks_uri "${input}" must use https (http only for loopback hosts)`, { field: 'jwksUri' });
  }
  if (url.hash) throw new AppError('invalid_input', `jwks_uri "${input}" must not contain a fragment`, { field: 'jwksUri' });
  return url.href;
}

export function validateClientAuth(input: ClientAuthInput | undefined): ClientAuth {
  if (!input || input.method === 'client_secret') {
    if (input?.jwks !== undefined || input?.jwksUri) throw new AppError('invalid_input', 'a JWKS or jwks_uri is only used with private_key_jwt authentication', { field: 'jwks' });
    return { method: 'client_secret' };
  }
  if (input.method !== 'private_key_jwt') throw new AppError('invalid_input', `unknown client authentication "${String(input.method)}": use client_secret or private_key_jwt`, { field: 'auth' });
  const hasJwks = input.jwks !== undefined && input.jwks !== null && input.jwks !== '';
  const hasUri = Boolean(input.jwksUri);
  if (hasJwks === hasUri) throw new AppError('invalid_input', "private_key_jwt needs the client's public keys: give either a JWKS or a jwks_uri (not both)", { field: 'jwks' });
  return { method: 'private_key_jwt', jwks: hasJwks ? validateClientJwks(input.jwks) : null, jwksUri: hasUri ? validateJwksUri(input.jwksUri!) : null };
}
