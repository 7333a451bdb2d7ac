/**
 * The address people and Okta reach this server at, as the running server knows it. The server
 * records its PUBLIC_URL in the store at start, so the CLI (run with another environment, often
 * without PORT or PUBLIC_URL) prints links on the server's real address instead of a guess.
 */
export const PUBLIC_URL_SETTING = 'server.public_url';

/** True when Okta's cloud could not reach this address: plain http, or a loopback host. */
export function unreachableFromOkta(publicUrl: string): string | null {
  const url = new URL(publicUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' || host === '0.0.0.0') {
    return `${publicUrl} is a loopback address: only this machine can reach it, so a real Okta org cannot call it.`;
  }
  if (url.protocol === 'http:') return `${publicUrl} is plain http: Okta calls identity providers and SCIM servers over https only.`;
  return null;
}

/** Where the README explains running Latchkey where a real Okta org can reach it. */
export const REAL_OKTA_GUIDE = 'README.md, section "A real Okta org from a laptop"';
